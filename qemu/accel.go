package qemu

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/crashrig/crashrig/internal/atomicfile"
)

// A KVMProbe asks whether KVM can really run a guest on this host.
type KVMProbe struct {
	Binary    string        // emulator ("" = DefaultBinary)
	Kernel    string        // a bzImage to boot under KVM
	CacheFile string        // where the answer is remembered ("" = not remembered)
	TTL       time.Duration // how long a remembered answer holds (0 = 6h)
	Timeout   time.Duration // no kernel output for this long means unusable (0 = 5s)
	Device    string        // the KVM device ("" = /dev/kvm)
}

// A KVMVerdict is the probe's answer.
type KVMVerdict struct {
	Usable bool      `json:"usable"`
	Why    string    `json:"why"` // the evidence, in one line
	At     time.Time `json:"at"`
	Key    string    `json:"key"`
	Cached bool      `json:"-"` // the answer came from CacheFile
}

// kvmErrorRe picks qemu's own explanation out of its stderr.
var kvmErrorRe = regexp.MustCompile(`(?m)^.*(failed to set MSR[^\n]*|KVM internal error[^\n]*|emulation failure[^\n]*|Could not access KVM kernel module[^\n]*|failed to initialize kvm[^\n]*|[^\n]*[Kk][Vv][Mm][^\n]*not supported[^\n]*)`)

// Run answers from the cache when it can, and otherwise boots the kernel
// under KVM and watches: qemu dying at once with a KVM message, or no
// kernel output within the timeout while qemu burns CPU, both mean KVM
// cannot run guests here (both happen on nested and paravirtual hosts).
func (p KVMProbe) Run(ctx context.Context) KVMVerdict {
	if p.Binary == "" {
		p.Binary = DefaultBinary
	}
	if p.TTL == 0 {
		p.TTL = 6 * time.Hour
	}
	if p.Timeout == 0 {
		p.Timeout = 5 * time.Second
	}
	if p.Device == "" {
		p.Device = "/dev/kvm"
	}
	if err := syscall.Access(p.Device, 6 /* R_OK|W_OK */); err != nil {
		return KVMVerdict{Why: fmt.Sprintf("%s: %v", p.Device, err), At: time.Now()}
	}
	key := p.hostKey()
	if v, ok := p.cached(key); ok {
		return v
	}
	v := p.boot(ctx)
	v.Key, v.At = key, time.Now()
	p.remember(v)
	return v
}

func (p KVMProbe) boot(ctx context.Context) KVMVerdict {
	ctx, cancel := context.WithTimeout(ctx, p.Timeout)
	defer cancel()
	c := Config{Binary: p.Binary, Kernel: p.Kernel, Accel: "kvm", Memory: 256,
		Append: "console=ttyS0 earlyprintk=serial loglevel=7 panic=-1"}
	m, err := Start(ctx, c)
	if err != nil {
		return KVMVerdict{Why: err.Error()}
	}
	defer m.Kill()
	var out bytes.Buffer
	for ch := range m.Console {
		out.Write(ch.Data)
		if bytes.Contains(out.Bytes(), []byte("Linux version")) {
			return KVMVerdict{Usable: true, Why: fmt.Sprintf("kernel printed under KVM after %v", time.Since(m.Started).Round(time.Millisecond))}
		}
		if out.Len() > 1<<20 {
			break
		}
	}
	ex := m.Wait()
	if ctx.Err() != nil && !strings.Contains(ex.Stderr, "KVM") {
		return KVMVerdict{Why: fmt.Sprintf("no kernel output within %v under KVM (qemu kept running; a KVM that cannot emulate this guest hangs like this)", p.Timeout)}
	}
	why := strings.TrimSpace(ex.Stderr)
	if m := kvmErrorRe.FindString(why); m != "" {
		why = strings.TrimSpace(m)
	} else if i := strings.IndexByte(why, '\n'); i > 0 {
		why = why[:i]
	}
	if ex.Signal != "" {
		why += " (qemu: " + ex.Signal + ")"
	}
	return KVMVerdict{Why: "qemu under KVM: " + why}
}

// hostKey names what the answer depends on: this host's kernel, the
// emulator binary and the KVM device.
func (p KVMProbe) hostKey() string {
	var u syscall.Utsname
	syscall.Uname(&u)
	h := sha256.New()
	for _, c := range u.Release {
		if c == 0 {
			break
		}
		h.Write([]byte{byte(c)})
	}
	if path, err := exec.LookPath(p.Binary); err == nil {
		if st, err := os.Stat(path); err == nil {
			fmt.Fprintf(h, "\x00%s\x00%d\x00%d", path, st.Size(), st.ModTime().UnixNano())
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func (p KVMProbe) cached(key string) (KVMVerdict, bool) {
	if p.CacheFile == "" {
		return KVMVerdict{}, false
	}
	b, err := os.ReadFile(p.CacheFile)
	if err != nil {
		return KVMVerdict{}, false
	}
	var v KVMVerdict
	if json.Unmarshal(b, &v) != nil || v.Key != key || time.Since(v.At) > p.TTL {
		return KVMVerdict{}, false
	}
	v.Cached = true
	return v, true
}

func (p KVMProbe) remember(v KVMVerdict) {
	if p.CacheFile == "" {
		return
	}
	b, _ := json.Marshal(v)
	os.MkdirAll(filepath.Dir(p.CacheFile), 0o700)
	atomicfile.WriteBytes(p.CacheFile, 0o600, b) // a lost note only means probing again
}
