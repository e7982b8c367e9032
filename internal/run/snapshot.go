package run

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/crashrig/crashrig/internal/atomicfile"
	"github.com/crashrig/crashrig/qemu"
	"github.com/crashrig/crashrig/qemu/qmp"
	"github.com/crashrig/crashrig/reproducer/marker"
)

// Starting runs from a saved VM state (Options.Snapshot).
//
// Once per configuration the kernel boots with the order crashrig.wait=console:
// the guest /init mounts, prints a ready marker and waits for a Resume line on
// the console. crashrig then stops the VM and saves its state through QMP
// (migrate to a file). Every run starts qemu with the same command line plus
// -incoming, resumes it (cont) and writes the run's orders, fresh entropy and
// the host clock on the console (marker.Resume); the guest reseeds its kernel's
// random number generator, sets its clock and runs the reproducer as after a
// boot. Everything after that — markers, heartbeats, verdicts, logs — is the
// same as for a booted run.
//
// A state is cached under CacheDir/snapshots (mode 0700, files 0600: a state
// holds the whole guest memory) by a key over everything that shapes it, with
// its size and SHA-256 beside it. It is hashed before its first use by a
// crashrig process and its size, inode and modification time are checked
// before every restore; a state that fails either is deleted and rebuilt, never
// loaded. A restore that fails falls back to a normal boot for that run, with
// the reason in the log and the record; after two failed restores a plan boots
// normally for good.

// SnapshotVersion changes when the guest side of the protocol or the layout
// of a saved state changes, so that older states are not used.
const SnapshotVersion = 1

// Bounds of the snapshot cache: states beyond these, least recently used
// first, are removed when a new one is saved.
const (
	maxStates     = 4
	maxStateBytes = 2 << 30
)

// restoreTimeout bounds the time from starting qemu with a saved state to the
// guest's resumed init marker; a restore takes well under a second, so this
// only catches a broken one.
const restoreTimeout = 20 * time.Second

// maxConsoleLine is the longest line the guest's terminal takes in canonical
// mode (Linux's N_TTY_BUF_SIZE), newline included.
const maxConsoleLine = 4096

// A snapshotter owns the saved state of one Plan. It is safe for concurrent
// use by the runs of a batch.
type snapshotter struct {
	plan *Plan
	dir  string
	key  string
	cfg  qemu.Config // the saving boot's machine; restores add -incoming

	mu        sync.Mutex
	ready     *stateInfo // verified state in use (nil = none yet)
	off       string     // why this plan boots normally ("" = snapshots on)
	offLogged bool       // the reason was logged
	failures  int
}

// A stateInfo describes a saved state; it is kept as KEY.json beside KEY.state.
type stateInfo struct {
	Key        string    `json:"key"`
	Size       int64     `json:"size"`
	SHA256     string    `json:"sha256"`
	Saved      time.Time `json:"saved"`
	BootS      float64   `json:"boot_s"` // qemu start to the ready marker
	SaveS      float64   `json:"save_s"` // stop + migrate to the file
	Argv       []string  `json:"argv"`
	QemuVer    string    `json:"qemu_version"`
	verifiedID fileID
}

// fileID is what must not change between the hash check and a restore.
type fileID struct {
	size, ino  uint64
	mtimeNanos int64
}

func statID(path string) (fileID, error) {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return fileID{}, err
	}
	return fileID{size: uint64(st.Size), ino: st.Ino, mtimeNanos: st.Mtim.Nano()}, nil
}

// newSnapshotter sets up snapshots for p, or returns nil and says why they
// cannot be used for this plan.
func newSnapshotter(p *Plan) (*snapshotter, string) {
	o := p.Opts
	switch {
	case o.Image.InitScript != "":
		return nil, "--init-script replaces crashrig's /init, which alone can wait for a resume"
	case o.Initramfs != "":
		return nil, "--initramfs: a given image's /init may not know how to wait for a resume"
	}
	cfg := p.Qemu.Defaults()
	cfg.Append = strings.Join(append([]string{o.baseCmdline()}, marker.Orders{Wait: true}.Words()...), " ")
	cfg.Input = true
	s := &snapshotter{plan: p, dir: filepath.Join(o.CacheDir, "snapshots"), cfg: cfg}
	s.key = s.stateKey()
	return s, ""
}

// stateKey names the state by everything that shapes it: the kernel and
// image contents, the whole qemu command line (machine, CPU, accelerator,
// memory, vCPUs, firmware, kernel command line, extra arguments), qemu's
// version and binary, and the protocol version.
func (s *snapshotter) stateKey() string {
	h := sha256.New()
	fmt.Fprintf(h, "v%d\x00%s\x00%s\x00%s\x00", SnapshotVersion, s.plan.Kernel.SHA256, s.plan.InitramfsID, s.plan.QemuVersion)
	for _, a := range s.cfg.Argv() {
		fmt.Fprintf(h, "%s\x00", a)
	}
	for _, f := range []string{s.cfg.Binary, s.cfg.BIOS} {
		if f == "" {
			continue
		}
		if path, err := lookPath(f); err == nil {
			if st, err := os.Stat(path); err == nil {
				fmt.Fprintf(h, "%s\x00%d\x00%d\x00", path, st.Size(), st.ModTime().UnixNano())
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

func (s *snapshotter) statePath() string { return filepath.Join(s.dir, s.key+".state") }
func (s *snapshotter) infoPath() string  { return filepath.Join(s.dir, s.key+".json") }

// state returns a verified saved state, building one when there is none or
// the one on disk fails its check.
func (s *snapshotter) state(ctx context.Context) (*stateInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.off != "" {
		return nil, errors.New(s.off)
	}
	if s.ready != nil {
		id, err := statID(s.statePath())
		if err == nil && id == s.ready.verifiedID {
			return s.ready, nil
		}
		s.logf("snapshot: saved state %s changed or vanished since it was checked (%v): rebuilding", s.statePath(), err)
		s.drop()
	}
	if err := s.privateDir(); err != nil {
		return nil, err
	}
	// Plans of one process that share a state (variants differing only in what
	// is sent at restore time) save it once: the second finds the first's.
	kl := keyLock(s.key)
	kl.Lock()
	defer kl.Unlock()
	if info, err := s.verify(); err == nil {
		s.ready = info
		os.Chtimes(s.infoPath(), time.Now(), time.Now()) // recently used: evicted last
		return info, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		s.logf("snapshot: %v: rebuilding it", err)
		s.drop()
	}
	info, err := s.build(ctx)
	if err != nil {
		if ctx.Err() == nil { // an interrupted save says nothing about the next one
			s.off = "saving a VM state failed: " + err.Error()
		}
		return nil, err
	}
	s.ready = info
	s.evict()
	return info, nil
}

var keyLocks sync.Map // state key → *sync.Mutex

func keyLock(key string) *sync.Mutex {
	l, _ := keyLocks.LoadOrStore(key, new(sync.Mutex))
	return l.(*sync.Mutex)
}

// privateDir makes the state directory, owner only.
func (s *snapshotter) privateDir() error {
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return fmt.Errorf("snapshot directory: %w", err)
	}
	return os.Chmod(s.dir, 0o700)
}

// verify checks the saved state against its recorded size and SHA-256.
func (s *snapshotter) verify() (*stateInfo, error) {
	b, err := os.ReadFile(s.infoPath())
	if err != nil {
		return nil, err
	}
	var info stateInfo
	if err := json.Unmarshal(b, &info); err != nil || info.Key != s.key || info.Size <= 0 {
		return nil, fmt.Errorf("saved state %s: its description %s is unreadable", s.statePath(), s.infoPath())
	}
	before, err := statID(s.statePath())
	if err != nil {
		return nil, fmt.Errorf("saved state %s: %w", s.statePath(), err)
	}
	if int64(before.size) != info.Size {
		return nil, fmt.Errorf("saved state %s is %d bytes, %d when saved", s.statePath(), before.size, info.Size)
	}
	sum, err := hashFile(s.statePath())
	if err != nil {
		return nil, fmt.Errorf("saved state %s: %w", s.statePath(), err)
	}
	if sum != info.SHA256 {
		return nil, fmt.Errorf("saved state %s fails its integrity check (SHA-256 %s, %s when saved)", s.statePath(), sum[:12], info.SHA256[:12])
	}
	after, err := statID(s.statePath())
	if err != nil || after != before {
		return nil, fmt.Errorf("saved state %s changed while it was checked", s.statePath())
	}
	info.verifiedID = after
	return &info, nil
}

func hashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, bufio.NewReaderSize(f, 1<<20)); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// drop removes the state in use and forgets it.
func (s *snapshotter) drop() {
	os.Remove(s.statePath())
	os.Remove(s.infoPath())
	s.ready = nil
}

// build boots to the guest's ready marker and saves the VM's state.
func (s *snapshotter) build(ctx context.Context) (*stateInfo, error) {
	o := s.plan.Opts
	ln, err := qmp.Listen("")
	if err != nil {
		return nil, err
	}
	defer ln.Close()
	cfg := s.cfg
	cfg.QMP = ln.Path
	m, err := qemu.Start(context.WithoutCancel(ctx), cfg)
	if err != nil {
		return nil, err
	}
	defer m.Wait()
	defer m.Kill()
	qc, err := accept(ctx, ln, m)
	if err != nil {
		return nil, err
	}
	defer qc.Close()
	if err := waitMarker(ctx, m, marker.Ready, o.BootTimeout, nil); err != nil {
		return nil, fmt.Errorf("booting to the point of saving: %w", err)
	}
	booted := time.Since(m.Started)
	t0 := time.Now()
	// A name of its own: another plan or crashrig may be saving the same state.
	f, err := os.CreateTemp(s.dir, s.key+".state.tmp-*")
	if err != nil {
		return nil, err
	}
	tmp := f.Name()
	f.Close()
	defer os.Remove(tmp)
	if err := save(ctx, qc, tmp); err != nil {
		return nil, err
	}
	saved := time.Since(t0)
	qc.Quit(ctx)
	if err := os.Chmod(tmp, 0o600); err != nil {
		return nil, err
	}
	id, err := statID(tmp)
	if err != nil {
		return nil, err
	}
	sum, err := hashFile(tmp)
	if err != nil {
		return nil, err
	}
	info := &stateInfo{Key: s.key, Size: int64(id.size), SHA256: sum, Saved: time.Now().UTC(), BootS: booted.Seconds(),
		SaveS: saved.Seconds(), Argv: m.Argv, QemuVer: s.plan.QemuVersion}
	if err := os.Rename(tmp, s.statePath()); err != nil {
		return nil, err
	}
	if info.verifiedID, err = statID(s.statePath()); err != nil {
		return nil, err
	}
	b, _ := json.MarshalIndent(info, "", "\t")
	if err := atomicfile.WriteBytes(s.infoPath(), 0o600, b); err != nil {
		os.Remove(s.statePath())
		return nil, err
	}
	s.logf("snapshot: saved the VM state at the reproducer's start (%.1f MB): boot %.2fs, save %.2fs, %s",
		float64(info.Size)/1e6, info.BootS, info.SaveS, s.statePath())
	return info, nil
}

// save stops the VM and migrates its state into path.
func save(ctx context.Context, qc *qmp.Client, path string) error {
	if err := qc.Stop(ctx); err != nil {
		return err
	}
	if err := qc.Migrate(ctx, "exec:cat > "+qemu.ShellQuote([]string{path})); err != nil {
		return err
	}
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		mi, err := qc.QueryMigrate(ctx)
		if err != nil {
			return err
		}
		switch mi.Status {
		case "completed":
			return nil
		case "failed", "cancelled":
			return fmt.Errorf("saving the VM state: migration %s: %s", mi.Status, mi.ErrorDesc)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return fmt.Errorf("saving the VM state: not done after 5 minutes")
}

// evict removes the least recently used states beyond the cache's bounds,
// and leftovers of saves that never finished.
func (s *snapshotter) evict() {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return
	}
	type state struct {
		key  string
		used time.Time
		size int64
	}
	var states []state
	for _, e := range entries {
		name := e.Name()
		fi, err := e.Info()
		if err != nil {
			continue
		}
		if strings.Contains(name, ".tmp-") && time.Since(fi.ModTime()) > time.Hour {
			os.Remove(filepath.Join(s.dir, name))
		}
		if key, ok := strings.CutSuffix(name, ".json"); ok {
			st, err := os.Stat(filepath.Join(s.dir, key+".state"))
			if err != nil {
				os.Remove(filepath.Join(s.dir, name))
				continue
			}
			states = append(states, state{key, fi.ModTime(), st.Size()})
		}
	}
	sort.Slice(states, func(i, j int) bool { // the one in use first, then the most recently used
		if (states[i].key == s.key) != (states[j].key == s.key) {
			return states[i].key == s.key
		}
		return states[i].used.After(states[j].used)
	})
	var total int64
	for i, st := range states {
		total += st.size
		if st.key != s.key && (i >= maxStates || total > maxStateBytes) {
			os.Remove(filepath.Join(s.dir, st.key+".state"))
			os.Remove(filepath.Join(s.dir, st.key+".json"))
			s.logf("snapshot: removed the least recently used saved state %s", st.key)
		}
	}
}

func (s *snapshotter) logf(format string, a ...any) { s.plan.Opts.logf(format, a...) }

var (
	lookPath = exec.LookPath
	randRead = rand.Read
)
