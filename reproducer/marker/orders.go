package marker

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Orders are the other half of the guest protocol: what the host tells the
// guest /init, as words on the kernel command line that the guest reads from
// /proc/cmdline. Each word is OrderPrefix, a key, '=' and a value escaped like a
// marker value (lists are joined with NUL bytes before escaping), so that no
// value can split into two words or look like a kernel parameter:
//
//	crashrig.run=/bin/repro crashrig.args=-n%0064 crashrig.d=30 crashrig.it=1
//
// The keys: run (the reproducer: a built-in name or a guest path; required),
// args, env (K=V for the reproducer), d (seconds per iteration, 0 = until it
// exits), it (iterations per boot), hb (heartbeat period in seconds), off
// ("restart" to end with a restart instead of a power-off), tty (an
// interactive shell on the console: "COLSxROWS" or "1") and wait ("console":
// print a ready marker and take the rest of the orders from the console, see
// Resume). Unknown keys are ignored, so an older guest boots with a newer
// host's orders.
type Orders struct {
	Run        string        // built-in name or absolute guest path
	Args       []string      // reproducer arguments
	Env        []string      // extra K=V for the reproducer
	Duration   time.Duration // end each iteration after this long (0 = until it exits)
	Iterations int           // reproducer runs in this boot (0 = 1)
	Beat       time.Duration // heartbeat period (0 = 1s)
	Restart    bool          // end with a restart instead of a power-off
	TTY        string        // interactive shell on the console: "COLSxROWS" or "1" ("" = none)
	Wait       bool          // wait for a Resume line on the console before running anything
}

// OrderPrefix starts every order word on the kernel command line.
const OrderPrefix = "crashrig."

// Words returns the orders as kernel command line words, in a fixed order.
// Zero fields other than Duration and Iterations are left out.
func (o Orders) Words() []string {
	w := []string{OrderPrefix + "run=" + Escape(o.Run)}
	if len(o.Args) > 0 {
		w = append(w, OrderPrefix+"args="+Escape(strings.Join(o.Args, "\x00")))
	}
	if len(o.Env) > 0 {
		w = append(w, OrderPrefix+"env="+Escape(strings.Join(o.Env, "\x00")))
	}
	it := o.Iterations
	if it == 0 {
		it = 1
	}
	w = append(w, fmt.Sprintf("%sd=%g", OrderPrefix, o.Duration.Seconds()), fmt.Sprintf("%sit=%d", OrderPrefix, it))
	if o.Beat > 0 {
		w = append(w, fmt.Sprintf("%shb=%g", OrderPrefix, o.Beat.Seconds()))
	}
	if o.Restart {
		w = append(w, OrderPrefix+"off=restart")
	}
	if o.TTY != "" {
		w = append(w, OrderPrefix+"tty="+Escape(o.TTY))
	}
	if o.Wait {
		w = append(w, OrderPrefix+"wait=console")
	}
	return w
}

// TTYWord is the order for an interactive shell of cols×rows, for a command
// line that carries no other orders.
func TTYWord(cols, rows int) string {
	return fmt.Sprintf("%stty=%dx%d", OrderPrefix, cols, rows)
}

// ParseOrders reads the orders from a kernel command line. Words without the
// prefix are the kernel's and are skipped; a malformed order is an error that
// names its word. A command line with no run order is an error unless TTY is
// set (an interactive shell needs no reproducer) or Wait is (the run order
// comes later, on the console).
func ParseOrders(cmdline string) (Orders, error) {
	o := Orders{Iterations: 1, Beat: time.Second}
	for _, w := range strings.Fields(cmdline) {
		k, v, ok := strings.Cut(w, "=")
		if !ok || !strings.HasPrefix(k, OrderPrefix) {
			continue
		}
		v, err := Unescape(v)
		if err == nil {
			err = o.set(strings.TrimPrefix(k, OrderPrefix), v)
		}
		if err != nil {
			return o, fmt.Errorf("kernel command line word %q: %v", w, err)
		}
	}
	if o.Run == "" && o.TTY == "" && !o.Wait {
		return o, fmt.Errorf("no %srun= on the kernel command line", OrderPrefix)
	}
	return o, nil
}

func (o *Orders) set(k, v string) error {
	seconds := func() (time.Duration, error) {
		f, err := strconv.ParseFloat(v, 64)
		if err == nil && (f < 0 || f != f) {
			err = fmt.Errorf("want a number of seconds ≥ 0")
		}
		return time.Duration(f * float64(time.Second)), err
	}
	var err error
	switch k {
	case "run":
		o.Run = v
	case "args":
		o.Args = strings.Split(v, "\x00")
	case "env":
		o.Env = strings.Split(v, "\x00")
	case "d":
		o.Duration, err = seconds()
	case "it":
		o.Iterations, err = strconv.Atoi(v)
		if err == nil && o.Iterations < 1 {
			err = fmt.Errorf("want at least one iteration")
		}
	case "hb":
		var d time.Duration
		if d, err = seconds(); err == nil && d > 0 {
			o.Beat = d
		}
	case "off":
		o.Restart = v == "restart"
	case "tty":
		o.TTY = v
	case "wait":
		o.Wait = v == "console"
	}
	return err
}
