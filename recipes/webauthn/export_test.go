package webauthn

// SetOptionsReadHook sets a function run between reading generated options
// and deleting them, for tests that make requests race in that window.
func SetOptionsReadHook(f func()) (restore func()) {
	old := testHookOptionsRead
	testHookOptionsRead = f
	return func() { testHookOptionsRead = old }
}
