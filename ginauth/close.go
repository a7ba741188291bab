package ginauth

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/gin-gonic/gin"
)

// ErrClosed is the cause of the 503 answered by an instance after Close,
// and the error Go returns then.
var ErrClosed = errors.New("ginauth: the instance is closed")

// lifecycle is an instance's background work and its closing.
type lifecycle struct {
	mu     sync.Mutex // orders Go's Add against Close's Wait
	closed bool
	// shut mirrors closed for the request path, which must not lock.
	shut atomic.Bool
	wg   sync.WaitGroup
	// ctx is cancelled when Close gives up waiting (its ctx ended): the
	// background work still running is asked to stop.
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{} // closed when the first Close's wait is over
}

func (l *lifecycle) init() {
	l.ctx, l.cancel = context.WithCancel(context.Background())
	l.done = make(chan struct{})
}

// Go runs f in a goroutine that Close waits for: background work a
// request starts and does not wait for (a password-reset mail, a sweep).
// f's context keeps ctx's values but not its cancellation (the request
// ends first), and is cancelled when Close stops waiting. After Close,
// Go runs nothing and returns ErrClosed.
func (a *Auth) Go(ctx context.Context, f func(ctx context.Context)) error {
	l := &a.life
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	l.wg.Add(1)
	l.mu.Unlock()
	bctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(l.ctx, cancel)
	go func() {
		defer l.wg.Done()
		defer cancel()
		defer stop()
		f(bctx)
	}()
	return nil
}

// Close stops the instance: from then on its routes and guards answer 503
// and no background work starts; then it waits for the background work
// already running (mails being sent, a cleanup sweep) until ctx ends, when
// it asks that work to stop and returns ctx's error. It is idempotent and
// safe to call concurrently: every call waits the same way. It does not
// close the database, which belongs to the app.
//
// Call it after http.Server.Shutdown, so that no request is cut short.
func (a *Auth) Close(ctx context.Context) error {
	l := &a.life
	l.mu.Lock()
	first := !l.closed
	l.closed = true
	l.shut.Store(true)
	l.mu.Unlock()
	if first {
		if m, ok := a.limiter.store.(*memoryRateLimitStore); ok {
			m.owner.CompareAndSwap(a, nil) // free for an instance built after
		}
		go func() {
			l.wg.Wait()
			l.cancel()
			close(l.done)
		}()
	}
	select {
	case <-l.done:
		return nil
	case <-ctx.Done():
		l.cancel()
		return ctx.Err()
	}
}

// Closed reports whether Close has been called.
func (a *Auth) Closed() bool { return a.life.shut.Load() }

// closedMessage is the wire message of the 503 after Close.
const closedMessage = "the authentication service is shutting down"

// refuseClosed answers 503 and returns true when a is closed.
func (a *Auth) refuseClosed(c *gin.Context) bool {
	if !a.Closed() {
		return false
	}
	e := NewError(ErrUnavailable, ErrClosed)
	e.Message = closedMessage
	a.writeError(c, e)
	return true
}
