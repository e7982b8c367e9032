// Package marker defines the guest protocol, both ways: the orders the host
// gives the guest /init as crashrig.* words on the kernel command line (Orders,
// in orders.go), and the one-line, checksummed messages that the guest /init
// and reproducers print on the serial console so that the host can follow a
// run (below).
//
// A marker is a single line:
//
//	##crashrig start it=0 up=1.734211 repro=go20427 #5c1f0a9e
//
// It is the fixed prefix, an event name, space-separated key=value fields
// and a CRC-32 (IEEE) of everything between the prefix and " #", in eight hex
// digits. Kernel messages from other CPUs can land in the middle of a line
// written by the guest; the checksum makes such a line recognisable as
// broken instead of misread. The prefix may appear anywhere in a console
// line (firmware escape sequences or a half-written kernel line may precede
// it).
//
// Values are escaped so that they never contain spaces, '=', '#', '%' or
// control bytes. The package is standard-library only because the guest
// builds it too.
package marker

import (
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"
)

// Prefix starts every marker.
const Prefix = "##crashrig "

// Event names printed by the guest.
const (
	Init  = "init"  // /init reached: up, kernel, ncpu
	Start = "start" // reproducer started: it, up, repro
	Beat  = "hb"    // heartbeat while the reproducer runs: it, up, el
	Exit  = "exit"  // reproducer ended: it, up, el, how (exit, signal, duration), status or sig
	Fail  = "fail"  // the reproducer declares a failure: title
	Info  = "info"  // free-form measurements a reproducer wants recorded
	Off   = "off"   // the guest is about to power off: up
	Ready = "ready" // the guest waits for a Resume line on the console: up
)

// A Field is one key=value pair of a marker, unescaped.
type Field struct {
	Key, Value string
}

// An Event is one parsed marker.
type Event struct {
	Name   string
	Fields []Field
	// Offset is the byte offset of the start of the marker's line in the
	// console log; set by the host-side parser, zero otherwise.
	Offset int64
}

// Get returns the value of key, or "" when the event has no such field.
func (e Event) Get(key string) string {
	for _, f := range e.Fields {
		if f.Key == key {
			return f.Value
		}
	}
	return ""
}

// Float returns the value of key as a float64; ok is false when the field
// is missing or not a number.
func (e Event) Float(key string) (v float64, ok bool) {
	s := e.Get(key)
	if s == "" {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil
}

// Int returns the value of key as an int; ok is false when the field is
// missing or not an integer.
func (e Event) Int(key string) (v int, ok bool) {
	s := e.Get(key)
	if s == "" {
		return 0, false
	}
	v, err := strconv.Atoi(s)
	return v, err == nil
}

// Format renders a marker line (without the newline). kv alternates keys and
// values; a key without a value is given an empty one.
func Format(name string, kv ...string) string {
	var b strings.Builder
	b.WriteString(name)
	for i := 0; i < len(kv); i += 2 {
		v := ""
		if i+1 < len(kv) {
			v = kv[i+1]
		}
		b.WriteByte(' ')
		b.WriteString(escape(kv[i]))
		b.WriteByte('=')
		b.WriteString(escape(v))
	}
	body := b.String()
	return fmt.Sprintf("%s%s #%08x", Prefix, body, crc32.ChecksumIEEE([]byte(body)))
}

// A Status says what Parse found in a line.
type Status int

const (
	None    Status = iota // no marker prefix in the line
	OK                    // a well-formed marker
	Corrupt               // a prefix whose line does not check out
)

// Parse looks for a marker in one console line (without its newline; a
// trailing '\r' is ignored). It returns None when the line carries no
// prefix, Corrupt when the prefix is there but the body or checksum is
// damaged.
func Parse(line []byte) (Event, Status) {
	i := strings.Index(string(line), Prefix)
	if i < 0 {
		return Event{}, None
	}
	rest := strings.TrimRight(string(line[i+len(Prefix):]), "\r\n")
	j := strings.LastIndex(rest, " #")
	if j < 0 || len(rest)-j-2 != 8 {
		return Event{}, Corrupt
	}
	sum, err := strconv.ParseUint(rest[j+2:], 16, 32)
	if err != nil {
		return Event{}, Corrupt
	}
	body := rest[:j]
	if crc32.ChecksumIEEE([]byte(body)) != uint32(sum) {
		return Event{}, Corrupt
	}
	parts := strings.Split(body, " ")
	ev := Event{Name: parts[0]}
	if ev.Name == "" {
		return Event{}, Corrupt
	}
	for _, p := range parts[1:] {
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			return Event{}, Corrupt
		}
		ku, err1 := unescape(k)
		vu, err2 := unescape(v)
		if err1 != nil || err2 != nil {
			return Event{}, Corrupt
		}
		ev.Fields = append(ev.Fields, Field{ku, vu})
	}
	return ev, OK
}

func needsEscape(c byte) bool {
	return c <= ' ' || c == '=' || c == '#' || c == '%' || c >= 0x7f
}

// Escape encodes s so that it contains no spaces, '=', '#', '%' or control
// bytes; Unescape reverses it. Markers and the guest's kernel command line
// words use it.
func Escape(s string) string { return escape(s) }

// Unescape decodes what Escape encoded.
func Unescape(s string) (string, error) { return unescape(s) }

func escape(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if needsEscape(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if needsEscape(c) {
			b = append(b, '%', hex[c>>4], hex[c&15])
		} else {
			b = append(b, c)
		}
	}
	return string(b)
}

func unescape(s string) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b = append(b, s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", fmt.Errorf("short escape in %q", s)
		}
		v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
		if err != nil {
			return "", fmt.Errorf("bad escape in %q", s)
		}
		b = append(b, byte(v))
		i += 2
	}
	return string(b), nil
}
