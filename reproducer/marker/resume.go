package marker

import (
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"
	"time"
)

// A Resume is what the host sends a guest that waits (Orders.Wait) on its
// console, one line, when it starts a run from a saved VM state: the run's
// orders (the kernel command line was frozen when the state was saved, so
// the reproducer, its arguments, environment and duration come this way),
// fresh entropy for the kernel's random number generator, and the host's
// wall clock (the saved state carries the clock of the moment it was saved).
//
//	crashrig-resume crashrig.run=go20427 crashrig.d=1 crashrig.it=1 crashrig.seed=9f… crashrig.now=1765050000123456789 #1a2b3c4d
//
// The words are those of Orders.Words plus seed (hex) and now (Unix
// nanoseconds), and the line ends with a CRC-32 (IEEE) of everything between
// the prefix and " #", as a marker does, so that a line damaged on the way is
// refused rather than misread.
type Resume struct {
	Orders Orders
	Seed   []byte    // entropy for the guest kernel (at least MinSeed bytes)
	Now    time.Time // the host's wall clock when the line was written
}

// ResumePrefix starts a Resume line.
const ResumePrefix = "crashrig-resume "

// MinSeed is the least entropy a Resume carries, in bytes: enough to seed
// the kernel's CRNG fully.
const MinSeed = 32

// Line renders r as one console line, without the newline.
func (r Resume) Line() string {
	words := append(r.Orders.Words(),
		OrderPrefix+"seed="+hex.EncodeToString(r.Seed),
		OrderPrefix+"now="+strconv.FormatInt(r.Now.UnixNano(), 10))
	body := strings.Join(words, " ")
	return fmt.Sprintf("%s%s #%08x", ResumePrefix, body, crc32.ChecksumIEEE([]byte(body)))
}

// ParseResume reads a Resume line (a trailing "\r" or "\n" is ignored; the
// prefix may be preceded by other bytes). Orders that ask to wait again or
// for a shell are refused, as are a short seed and a missing clock.
func ParseResume(line string) (Resume, error) {
	var r Resume
	i := strings.Index(line, ResumePrefix)
	if i < 0 {
		return r, fmt.Errorf("no %q in the line", strings.TrimSpace(ResumePrefix))
	}
	rest := strings.TrimRight(line[i+len(ResumePrefix):], "\r\n")
	j := strings.LastIndex(rest, " #")
	if j < 0 || len(rest)-j-2 != 8 {
		return r, fmt.Errorf("no checksum")
	}
	sum, err := strconv.ParseUint(rest[j+2:], 16, 32)
	body := rest[:j]
	if err != nil || crc32.ChecksumIEEE([]byte(body)) != uint32(sum) {
		return r, fmt.Errorf("checksum does not match: the line was damaged")
	}
	var orders []string
	haveNow := false
	for _, w := range strings.Fields(body) {
		switch {
		case strings.HasPrefix(w, OrderPrefix+"seed="):
			r.Seed, err = hex.DecodeString(strings.TrimPrefix(w, OrderPrefix+"seed="))
			if err != nil {
				return r, fmt.Errorf("word %q: %v", w, err)
			}
		case strings.HasPrefix(w, OrderPrefix+"now="):
			ns, err := strconv.ParseInt(strings.TrimPrefix(w, OrderPrefix+"now="), 10, 64)
			if err != nil {
				return r, fmt.Errorf("word %q: %v", w, err)
			}
			r.Now, haveNow = time.Unix(0, ns), true
		default:
			orders = append(orders, w)
		}
	}
	if r.Orders, err = ParseOrders(strings.Join(orders, " ")); err != nil {
		return r, err
	}
	switch {
	case r.Orders.Wait || r.Orders.TTY != "":
		return r, fmt.Errorf("a resumed run cannot wait again or open a shell")
	case r.Orders.Run == "":
		return r, fmt.Errorf("no %srun=", OrderPrefix)
	case len(r.Seed) < MinSeed:
		return r, fmt.Errorf("seed of %d bytes: want at least %d", len(r.Seed), MinSeed)
	case !haveNow:
		return r, fmt.Errorf("no %snow=", OrderPrefix)
	}
	return r, nil
}
