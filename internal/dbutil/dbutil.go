// Package dbutil holds the database helper that ginauth uses itself and
// that the recipe kit re-exports for recipes (as kit.DBContext).
package dbutil

import (
	"context"
	"github.com/gin-gonic/gin"
)

// Context returns the context to give the database for ctx: the request's
// own context when ctx is a *gin.Context. Gin recycles its contexts once a
// handler returns, while database/sql may still look at a query's context a
// moment later, so a *gin.Context must not reach it.
func Context(ctx context.Context) context.Context {
	if c, ok := ctx.(*gin.Context); ok && c.Request != nil {
		return c.Request.Context()
	}
	return ctx
}
