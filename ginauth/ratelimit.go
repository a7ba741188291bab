package ginauth

// RateLimitConfig configures the built-in rate limiter.
type RateLimitConfig struct{}
