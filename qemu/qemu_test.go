package qemu

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestMain lets the test binary stand in for qemu: with CRASHRIG_FAKE_QEMU
// set it behaves as the named failure mode instead of running tests.
func TestMain(m *testing.M) {
	if mode := os.Getenv("CRASHRIG_FAKE_QEMU"); mode != "" {
		fakeQemu(mode)
		return
	}
	os.Exit(m.Run())
}

func fakeQemu(mode string) {
	switch mode {
	case "boot":
		fmt.Print("SeaBIOS\r\n[    0.000000] Linux version 6.1.0-fake\r\n")
		os.Exit(0)
	case "msr":
		fmt.Fprint(os.Stderr, "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x2004000e4\nqemu-system-x86_64: ../../target/i386/kvm/kvm.c:3214: kvm_buf_set_msrs: Assertion `ret == cpu->kvm_msr_buf->nmsrs' failed.\n")
		syscall.Kill(os.Getpid(), syscall.SIGABRT)
	case "silent":
		for { // burn CPU with no output, as a KVM that cannot emulate does
		}
	case "flood":
		line := bytes.Repeat([]byte("x"), 4095)
		line = append(line, '\n')
		for i := 0; i < 4096; i++ { // 16 MiB
			os.Stdout.Write(line)
		}
		os.Exit(0)
	case "group":
		// A child in the same process group that would outlive a plain kill.
		p, _ := os.StartProcess("/bin/sleep", []string{"sleep", "300"}, &os.ProcAttr{})
		fmt.Printf("child %d\n", p.Pid)
		select {}
	}
	os.Exit(3)
}

func fake(t *testing.T, mode string) Config {
	t.Setenv("CRASHRIG_FAKE_QEMU", mode)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return Config{Binary: exe, Kernel: "bzImage"}
}

func TestArgv(t *testing.T) {
	tests := []struct {
		name string
		c    Config
		want []string
	}{
		{"defaults", Config{Kernel: "/k", Initrd: "/i", Append: "console=ttyS0"}, []string{
			"qemu-system-x86_64", "-nodefaults", "-no-user-config", "-display", "none", "-monitor", "none",
			"-net", "none", "-no-reboot", "-accel", "tcg,thread=multi", "-cpu", "max", "-smp", "2", "-m", "512M",
			"-chardev", "stdio,id=con,signal=off", "-serial", "chardev:con", "-kernel", "/k", "-initrd", "/i",
			"-append", "console=ttyS0"}},
		{"kvm", Config{Kernel: "/k", Accel: "kvm", SMP: 4, Memory: 1024, Extra: []string{"-s"}}, []string{
			"qemu-system-x86_64", "-nodefaults", "-no-user-config", "-display", "none", "-monitor", "none",
			"-net", "none", "-no-reboot", "-accel", "kvm", "-cpu", "host", "-smp", "4", "-m", "1024M",
			"-chardev", "stdio,id=con,signal=off", "-serial", "chardev:con", "-kernel", "/k",
			"-append", "", "-s"}},
		{"single-threaded tcg and bios", Config{Binary: "q", Kernel: "/k", TCGThread: "single", BIOS: "qboot.rom", CPU: "qemu64"}, []string{
			"q", "-nodefaults", "-no-user-config", "-display", "none", "-monitor", "none",
			"-net", "none", "-no-reboot", "-accel", "tcg,thread=single", "-cpu", "qemu64", "-smp", "2", "-m", "512M",
			"-chardev", "stdio,id=con,signal=off", "-serial", "chardev:con", "-kernel", "/k", "-bios", "qboot.rom",
			"-append", ""}},
		{"pvpanic and qmp", Config{Kernel: "/k", PVPanic: true, QMP: "/run/x/qmp.sock"}, []string{
			"qemu-system-x86_64", "-nodefaults", "-no-user-config", "-display", "none", "-monitor", "none",
			"-net", "none", "-no-reboot", "-accel", "tcg,thread=multi", "-cpu", "max", "-smp", "2", "-m", "512M",
			"-chardev", "stdio,id=con,signal=off", "-serial", "chardev:con", "-kernel", "/k",
			"-device", "pvpanic", "-action", "panic=none",
			"-chardev", "socket,id=qmp,path=/run/x/qmp.sock,reconnect=1", "-mon", "chardev=qmp,mode=control",
			"-append", ""}},
		{"restored from a saved state", Config{Kernel: "/k", Extra: []string{"-s"}, Incoming: "exec:cat /x/state", Input: true}, []string{
			"qemu-system-x86_64", "-nodefaults", "-no-user-config", "-display", "none", "-monitor", "none",
			"-net", "none", "-no-reboot", "-accel", "tcg,thread=multi", "-cpu", "max", "-smp", "2", "-m", "512M",
			"-chardev", "stdio,id=con,signal=off", "-serial", "chardev:con", "-kernel", "/k",
			"-append", "", "-s", "-incoming", "exec:cat /x/state"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.c.Argv()); diff != "" {
				t.Errorf("Argv (-want +got):\n%s", diff)
			}
		})
	}
}

func TestShellQuote(t *testing.T) {
	got := ShellQuote([]string{"qemu", "-append", "console=ttyS0 crashrig.args=a%20b", "it's", ""})
	want := `qemu -append 'console=ttyS0 crashrig.args=a%20b' 'it'\''s' ''`
	if got != want {
		t.Errorf("ShellQuote = %s, want %s", got, want)
	}
}

func TestValidate(t *testing.T) {
	bad := []Config{{}, {Kernel: "k", SMP: 300}, {Kernel: "k", Memory: 64}, {Kernel: "k", Accel: "hvf"}, {Kernel: "k", TCGThread: "x"}}
	for _, c := range bad {
		if c.Validate() == nil {
			t.Errorf("Validate(%+v) = nil", c)
		}
	}
	if err := (Config{Kernel: "k"}).Validate(); err != nil {
		t.Error(err)
	}
}

func drain(m *Machine) []byte {
	var b bytes.Buffer
	for ch := range m.Console {
		b.Write(ch.Data)
	}
	return b.Bytes()
}

func TestStreamWithoutLoss(t *testing.T) {
	m, err := Start(context.Background(), fake(t, "flood"))
	if err != nil {
		t.Fatal(err)
	}
	out := drain(m)
	ex := m.Wait()
	if len(out) != 4096*4096 || ex.Code != 0 {
		t.Fatalf("got %d bytes, exit %+v; want 16 MiB, exit 0", len(out), ex)
	}
}

func TestKillStopsTheGroup(t *testing.T) {
	m, err := Start(context.Background(), fake(t, "group"))
	if err != nil {
		t.Fatal(err)
	}
	ch := <-m.Console
	var pid int
	fmt.Sscanf(string(ch.Data), "child %d", &pid)
	if pid == 0 {
		t.Fatalf("no child pid in %q", ch.Data)
	}
	m.Kill()
	ex := m.Wait()
	if !ex.KilledBy || ex.Signal == "" {
		t.Errorf("exit %+v, want killed by us with a signal", ex)
	}
	deadline := time.Now().Add(5 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		// The child is reparented to init (or a subreaper) and reaped.
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil && strings.Contains(string(b), ") Z ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("child %d of the fake qemu survived Kill", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestMissingBinary(t *testing.T) {
	_, err := Start(context.Background(), Config{Binary: "/nonexistent/qemu", Kernel: "k"})
	if err == nil || !strings.Contains(err.Error(), "apt-get install qemu-system-x86") {
		t.Fatalf("err = %v, want a hint to install qemu", err)
	}
}

func TestKVMProbe(t *testing.T) {
	dev := filepath.Join(t.TempDir(), "kvm")
	os.WriteFile(dev, nil, 0o666)
	tests := []struct {
		mode   string
		usable bool
		why    string
	}{
		{"boot", true, "kernel printed under KVM"},
		{"msr", false, "failed to set MSR 0x10a"},
		{"silent", false, "no kernel output within"},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			c := fake(t, tt.mode)
			cache := filepath.Join(t.TempDir(), "probe.json")
			p := KVMProbe{Binary: c.Binary, Kernel: "k", CacheFile: cache, Device: dev, Timeout: time.Second}
			start := time.Now()
			v := p.Run(context.Background())
			if v.Usable != tt.usable || !strings.Contains(v.Why, tt.why) || v.Cached {
				t.Fatalf("probe = %+v, want usable=%v why~%q", v, tt.usable, tt.why)
			}
			if el := time.Since(start); el > 3*time.Second {
				t.Errorf("probe took %v", el)
			}
			again := p.Run(context.Background())
			if !again.Cached || again.Usable != v.Usable || again.Why != v.Why {
				t.Errorf("second probe = %+v, want the cached answer", again)
			}
		})
	}
	v := KVMProbe{Device: filepath.Join(t.TempDir(), "none")}.Run(context.Background())
	if v.Usable || !strings.Contains(v.Why, "no such file") {
		t.Errorf("missing device: %+v", v)
	}
}
