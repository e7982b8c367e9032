package console

import (
	"strings"
)

const maxTitleLen = 120

// sanitizeTitle makes a title printable and one line: control bytes and
// invalid characters dropped, runs of spaces collapsed, at most
// maxTitleLen bytes (cut at a character boundary).
func sanitizeTitle(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		if r == '\t' || r == ' ' || r == '\n' {
			space = true
			continue
		}
		if r < ' ' || r == 0x7f || r == 0xfffd {
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	t := b.String()
	if len(t) > maxTitleLen {
		cut := maxTitleLen
		for cut > 0 && t[cut]&0xc0 == 0x80 {
			cut--
		}
		t = strings.TrimRight(t[:cut], " ")
	}
	return t
}

func isIdent(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// normalize replaces the parts of a title that change from run to run:
//
//   - "func+0x1a/0x40" becomes "func";
//   - hex numbers with a 0x prefix, and bare hex runs of 6 or more digits
//     containing a digit, become ADDR;
//   - "file.c:123" (and "file.c:123:45") becomes "file.c:LINE";
//   - "CPU#3" becomes "CPU"; dotted IPv4 addresses become IP;
//   - any other decimal number standing alone becomes NUM.
//
// Numbers glued to letters (ext4, sha256, func1) are kept: they name
// things rather than count them.
func normalize(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		c := s[i]
		prevIdent := i > 0 && isIdent(s[i-1])
		switch {
		case c == '+' && i+2 < len(s) && s[i+1] == '0' && s[i+2] == 'x' && i > 0 && isIdent(s[i-1]):
			// func+0x1a/0x40: drop the offset and size.
			j := skipHex(s, i+3)
			if j < len(s) && s[j] == '/' && j+2 < len(s) && s[j+1] == '0' && s[j+2] == 'x' {
				j = skipHex(s, j+3)
			}
			i = j
		case c == ':' && i > 0 && i+1 < len(s) && isDigit(s[i+1]) && fileBefore(s, i):
			b.WriteString(":LINE")
			j := i + 1
			for j < len(s) && (isDigit(s[j]) || s[j] == ':' && j+1 < len(s) && isDigit(s[j+1])) {
				j++
			}
			i = j
		case c == '#' && i >= 3 && s[i-3:i] == "CPU" && i+1 < len(s) && isDigit(s[i+1]):
			i = skipDigits(s, i+1)
		case isDigit(c) && !prevIdent:
			i = normalizeNumber(&b, s, i)
		case isHex(c) && !prevIdent && hexWord(s, i) > i:
			b.WriteString("ADDR")
			i = hexWord(s, i)
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

// normalizeNumber writes the replacement of the number starting at s[i]
// and returns the index after it. A run that turns out to be glued to
// letters (e.g. "3com", "2nd") is copied unchanged.
func normalizeNumber(b *strings.Builder, s string, i int) int {
	if s[i] == '0' && i+2 < len(s) && (s[i+1] == 'x' || s[i+1] == 'X') && isHex(s[i+2]) {
		j := skipHex(s, i+2)
		if j < len(s) && isIdent(s[j]) {
			b.WriteString(s[i:j])
			return j
		}
		b.WriteString("ADDR")
		return j
	}
	j := skipHex(s, i)
	if j-i >= 6 && (j >= len(s) || !isIdent(s[j])) {
		b.WriteString("ADDR")
		return j
	}
	j = skipDigits(s, i)
	if j < len(s) && s[j] == '.' && j+1 < len(s) && isDigit(s[j+1]) {
		// 10.0.2.15 is an IP, 1.5 a number.
		k, dots := j, 0
		for k < len(s) && s[k] == '.' && k+1 < len(s) && isDigit(s[k+1]) {
			k = skipDigits(s, k+1)
			dots++
		}
		if dots == 3 && (k >= len(s) || !isIdent(s[k])) {
			b.WriteString("IP")
			return k
		}
	}
	if j < len(s) && isIdent(s[j]) {
		k := j
		for k < len(s) && isIdent(s[k]) {
			k++
		}
		b.WriteString(s[i:k])
		return k
	}
	b.WriteString("NUM")
	return j
}

// fileBefore reports whether s[:i] ends in something like "file.c".
func fileBefore(s string, i int) bool {
	j := i
	for j > 0 && isIdent(s[j-1]) {
		j--
	}
	if j == i || j == 0 || s[j-1] != '.' {
		return false
	}
	k := j - 1
	return k > 0 && (isIdent(s[k-1]) || s[k-1] == '-')
}

func skipHex(s string, i int) int {
	for i < len(s) && isHex(s[i]) {
		i++
	}
	return i
}

func skipDigits(s string, i int) int {
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}

// hexWord returns the end of a standalone hex word of 6 or more digits,
// at least one of them decimal, starting at s[i]; or i when there is none.
func hexWord(s string, i int) int {
	j := skipHex(s, i)
	if j-i < 6 || j < len(s) && isIdent(s[j]) {
		return i
	}
	for k := i; k < j; k++ {
		if isDigit(s[k]) {
			return j
		}
	}
	return i
}
