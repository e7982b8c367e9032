package record

import (
	"strings"
	"testing"
)

func TestConfigHash(t *testing.T) {
	base := testConfig()
	// Pinned: the hash is stored and compared across databases and crashrig
	// versions. Change it only with a migration that rewrites configs.hash.
	const pinned = "d23797e4fbc7a1d409cd46fb4d6b95c94a42294de9aa70f1f651411b65254ce6"
	if got := base.Hash(); got != pinned {
		t.Errorf("Hash() = %s, want the pinned %s", got, pinned)
	}
	tests := []struct {
		name string
		edit func(*Config)
		same bool
	}{
		{"kernel path", func(c *Config) { c.KernelPath = "/elsewhere" }, true},
		{"kernel label", func(c *Config) { c.KernelLabel = "B" }, true},
		{"kernel version", func(c *Config) { c.KernelVersion = "x" }, true},
		{"variant", func(c *Config) { c.Variant = "B" }, true},
		{"env order", func(c *Config) { c.Env[0], c.Env[1] = c.Env[1], c.Env[0] }, true},
		{"kernel", func(c *Config) { c.KernelSHA256 = strings.Repeat("00", 32) }, false},
		{"reproducer", func(c *Config) { c.Reproducer = "vdsostack" }, false},
		{"reproducer args", func(c *Config) { c.ReproArgs = nil }, false},
		{"reproducer hash", func(c *Config) { c.ReproHash = "" }, false},
		{"smp", func(c *Config) { c.SMP = 4 }, false},
		{"memory", func(c *Config) { c.Memory = 1024 }, false},
		{"cmdline", func(c *Config) { c.Cmdline += " nokaslr" }, false},
		{"accel", func(c *Config) { c.Accel = "tcg" }, false},
		{"qemu version", func(c *Config) { c.QemuVersion = "8.2" }, false},
		{"env", func(c *Config) { c.Env = c.Env[:1] }, false},
		{"duration", func(c *Config) { c.Duration = 30 }, false},
		{"iterations", func(c *Config) { c.Iterations = 1 }, false},
		{"path counts without sha", func(c *Config) { c.KernelSHA256 = "" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := testConfig()
			c.Env = append([]string(nil), c.Env...)
			tt.edit(&c)
			if same := c.Hash() == base.Hash(); same != tt.same {
				t.Errorf("changing the %s: same hash = %v, want %v", tt.name, same, tt.same)
			}
		})
	}
	noSHA := Config{KernelPath: "/a", Reproducer: "r"}
	other := noSHA
	other.KernelPath = "/b"
	if noSHA.Hash() == other.Hash() {
		t.Error("two unhashed kernels at different paths have the same config hash")
	}
	empty := Config{ReproArgs: []string{}, Env: []string{}}
	if empty.Hash() != (Config{}).Hash() {
		t.Error("empty and nil lists hash differently")
	}
}

func testConfig() Config {
	return Config{
		KernelSHA256: strings.Repeat("ab", 32), KernelPath: "/boot/vmlinuz-6.1.0-56-cloud-amd64",
		KernelVersion: "6.1.0-56-cloud-amd64 (debian-kernel@lists.debian.org) #1 SMP", KernelLabel: "debian",
		Reproducer: "go20427", ReproArgs: []string{"-goroutines", "64"}, ReproHash: strings.Repeat("cd", 32),
		SMP: 2, Memory: 512, Cmdline: "console=ttyS0 panic=-1", Accel: "auto", QemuVersion: "QEMU emulator version 7.2.15",
		Env: []string{"GOMAXPROCS=2", "GODEBUG=asyncpreemptoff=1"}, Duration: 60, Iterations: 3, Variant: "A",
	}
}
