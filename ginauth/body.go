package ginauth

import (
	"errors"
	"io"
	"net/http"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
)

// readBody reads at most limit (> 0) bytes of the request body, for the
// recipe kit's body readers (kit.ReadJSONObject). Too large a body
// is a 413; bytes that are not UTF-8 (which encoding/json would quietly
// turn into U+FFFD), a NUL, or a JSON string or key with a NUL or over
// MaxInputStringBytes, a 400 (see input.go).
func readBody(c *gin.Context, limit int64) ([]byte, error) {
	if c.Request.Body == nil || c.Request.Body == http.NoBody {
		return nil, nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, tooLarge(limit)
		}
		return nil, BadRequest("the request body could not be read")
	}
	if !utf8.Valid(body) {
		return nil, BadRequest("the request body is not valid UTF-8")
	}
	// The router checked the bodies of auth routes already; apps may call
	// these helpers from their own routes too.
	if _, ok := c.Get(inputCheckedKey{}); !ok {
		if err := checkJSONBody(body); err != nil {
			return nil, err
		}
	}
	return body, nil
}

// writeGeneralError answers 200 {"status":"GENERAL_ERROR","message":...},
// the FDI shape the frontend SDKs show to the user, and records cause (which
// is never sent) in c.Errors and the log.
func (a *Auth) writeGeneralError(c *gin.Context, message string, cause error) {
	if cause != nil {
		_ = c.Error(cause)
		a.log.WarnContext(c.Request.Context(), "ginauth: general error", "path", c.Request.URL.Path, "message", message, "error", cause)
	}
	c.JSON(http.StatusOK, gin.H{"status": "GENERAL_ERROR", "message": message})
}
