package emailpassword

import (
	_ "embed"
	"strconv"
	"strings"
	"sync"
)

//go:embed common_passwords.txt
var commonPasswordsTxt string

// Suffixes people add to a word to pass a "must contain a number" rule.
var commonSuffixes = []string{"", "1", "12", "123", "1234", "12345", "123456", "!", "1!", "123!", "01", "11", "69", "007", "99", "00", "@123", "#1"}

var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	set := map[string]struct{}{}
	base := false
	for _, line := range strings.Split(commonPasswordsTxt, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
			continue
		case line == "[base]":
			base = true
			continue
		case !base:
			set[line] = struct{}{}
			continue
		}
		for _, s := range commonSuffixes {
			set[line+s] = struct{}{}
		}
		for y := 1990; y <= 2030; y++ {
			set[line+strconv.Itoa(y)] = struct{}{}
		}
	}
	return set
})

// IsCommonPassword reports whether password is on the embedded list of
// common passwords (a few thousand entries: the usual top of breach lists,
// and common words with the usual digits and years appended). The check
// ignores case.
func IsCommonPassword(password string) bool {
	_, ok := commonPasswords()[strings.ToLower(password)]
	return ok
}
