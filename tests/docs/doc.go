// Package docs holds tests of the repository's documentation: the Go
// programs in README.md and docs/ build against this checkout, the snippets
// follow the safe settings, and every route, demo setting and Go name a doc
// mentions exists in the code.
package docs
