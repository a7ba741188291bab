package ginauth

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

func TestWriteGeneralError(t *testing.T) {
	h := newHarness(t, nil)
	h.r.GET("/ge", func(c *gin.Context) { h.auth.writeGeneralError(c, "the provider is down", http.ErrHandlerTimeout) })
	r := h.client("header").do("GET", "/ge", "")
	if r.Code != 200 || r.body["status"] != "GENERAL_ERROR" || r.body["message"] != "the provider is down" || strings.Contains(r.Body.String(), "timeout") {
		t.Fatalf("%d %s", r.Code, r.Body)
	}
}
