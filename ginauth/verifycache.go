package ginauth

import (
	"hash/maphash"
	"sync"
	"time"
)

// defaultVerifyCacheSize is SessionConfig.VerifyCacheSize's default.
const defaultVerifyCacheSize = 10000

// maxVerifyCacheShards bounds the number of shards; each shard has its own
// lock, so concurrent verifies of different tokens rarely meet.
const maxVerifyCacheShards = 64

// minPerShard keeps small caches in few shards, so that the bound is
// shared sensibly rather than rounded up 64 times.
const minPerShard = 16

// hashTail is how much of a token the cache hashes: its end, which is
// signature (86 characters or more for every algorithm we sign with).
// Tokens that share it still differ in the comparison of the whole token;
// only verified tokens are ever stored, and the signature of a verified
// token depends on all of it, so tokens that differ share a tail only by
// chance. Hashing 64 bytes instead of the whole token (500 to 900 bytes)
// is most of what the lookup costs on a hit.
const hashTail = 64

// verifyCache remembers access tokens whose signature and standard fields
// were verified, so that a repeat verify of the same token skips the
// signature check and the payload decode. It only ever stands in for
// verifyAccessToken: anti-CSRF, claim validators and CheckDatabase run on
// every request as before.
//
// Entries are keyed by a seeded hash of the token's last hashTail bytes
// (part of its signature) and hold the whole token, which a hit compares,
// so a colliding token is a miss and is verified in full. An entry is served only inside the window the uncached path would
// accept it in (iat and nbf minus the clock skew up to exp plus the skew,
// and never after its signing key's verifyUntil plus the skew), and only
// while the key store still holds the very key that verified it, so a key
// dropped from the store stops its tokens at once. Revoking a session does
// not evict: a plain verify is stateless, cached or not.
//
// The cache is sharded: a hit takes one shard's read lock, and checks the
// key with one atomic load of the key store's generation (bumped whenever
// the store's keys are replaced) rather than its lock. Each shard is
// bounded and evicts its oldest entry (FIFO, which is roughly soonest to
// expire) when full.
type verifyCache struct {
	once     sync.Once
	off      bool
	seed     maphash.Seed
	hash     func(string) uint64 // tests replace it to force collisions
	shards   []verifyShard
	mask     uint64
	perShard int
}

type verifyShard struct {
	mu      sync.RWMutex
	entries map[uint64]*verifyEntry
	order   []uint64 // ring of keys in insertion order, for eviction
	next    int
	_       [64]byte // keep neighbouring shards' locks off one cache line
}

type verifyEntry struct {
	raw       string
	tok       *verifiedToken
	keyGen    uint64    // the key store's generation before its key was looked up
	validFrom time.Time // latest of iat and nbf, minus the skew
	validTo   time.Time // earliest of exp and the key's verifyUntil, plus the skew
}

// setup sizes the cache on first use: size 0 means the default, negative
// turns the cache off.
func (vc *verifyCache) setup(size int) {
	vc.once.Do(func() {
		if size < 0 {
			vc.off = true
			return
		}
		if size == 0 {
			size = defaultVerifyCacheSize
		}
		n := 1
		for n < maxVerifyCacheShards && size/(n*2) >= minPerShard {
			n *= 2
		}
		vc.shards = make([]verifyShard, n)
		vc.mask = uint64(n - 1)
		vc.perShard = size / n
		for i := range vc.shards {
			vc.shards[i].entries = make(map[uint64]*verifyEntry, vc.perShard)
			vc.shards[i].order = make([]uint64, 0, vc.perShard)
		}
		vc.seed = maphash.MakeSeed()
		if vc.hash == nil {
			seed := vc.seed
			vc.hash = func(s string) uint64 {
				if len(s) > hashTail {
					s = s[len(s)-hashTail:]
				}
				return maphash.String(seed, s)
			}
		}
	})
}

// get returns the verified token cached for raw, if it may be served at
// now, and raw's hash for put. ks is consulted so that a key no longer in
// the store is not trusted: any reload of the store (the only way a key
// leaves it) changes its generation, and an entry from an older generation
// is a miss, verified in full.
func (vc *verifyCache) get(raw string, now time.Time, ks *keyStore) (*verifiedToken, uint64) {
	if vc.off {
		return nil, 0
	}
	h := vc.hash(raw)
	sh := &vc.shards[h&vc.mask]
	sh.mu.RLock()
	e := sh.entries[h]
	sh.mu.RUnlock()
	if e == nil || e.raw != raw {
		return nil, h
	}
	if now.After(e.validTo) || e.validFrom.After(now) {
		if now.After(e.validTo) {
			sh.mu.Lock()
			if sh.entries[h] == e {
				delete(sh.entries, h)
			}
			sh.mu.Unlock()
		}
		return nil, h
	}
	if ks.gen.Load() != e.keyGen {
		return nil, h
	}
	return e.tok, h
}

// put caches a token that verifyAccessToken accepted; h is raw's hash, as
// get returned it.
func (vc *verifyCache) put(raw string, h uint64, e *verifyEntry) {
	if vc.off || vc.perShard == 0 {
		return
	}
	e.raw = raw
	sh := &vc.shards[h&vc.mask]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if _, ok := sh.entries[h]; ok {
		// Same token verified twice at once, or a collision: the newer one
		// wins; its key is already in the ring.
		sh.entries[h] = e
		return
	}
	if len(sh.order) < vc.perShard {
		sh.order = append(sh.order, h)
	} else {
		// Evict the oldest insert. It may already be gone (expired and
		// deleted, or its slot reused), which is fine.
		delete(sh.entries, sh.order[sh.next])
		sh.order[sh.next] = h
		sh.next = (sh.next + 1) % vc.perShard
	}
	sh.entries[h] = e
}

// len returns the number of cached entries (for tests).
func (vc *verifyCache) len() int {
	n := 0
	for i := range vc.shards {
		sh := &vc.shards[i]
		sh.mu.RLock()
		n += len(sh.entries)
		sh.mu.RUnlock()
	}
	return n
}
