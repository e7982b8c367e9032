package kernel

import "strings"

// A Check is one configuration requirement of a crashrig guest.
type Check struct {
	Options []string // any one of these enabled satisfies it
	Why     string   // what breaks without it
	Fix     string   // what to set
	Warn    bool     // a degradation, not a failure
}

// Checks lists what a guest kernel needs, most basic first.
var Checks = []Check{
	{[]string{"SERIAL_8250_CONSOLE"}, "no console on ttyS0: crashrig sees no output at all", "CONFIG_SERIAL_8250=y CONFIG_SERIAL_8250_CONSOLE=y", false},
	{[]string{"BLK_DEV_INITRD"}, "the kernel cannot load the initramfs", "CONFIG_BLK_DEV_INITRD=y", false},
	{[]string{"RD_GZIP"}, "the gzip'd initramfs cannot be unpacked (VFS: Unable to mount root fs)", "CONFIG_RD_GZIP=y", false},
	{[]string{"DEVTMPFS"}, "/init cannot mount /dev", "CONFIG_DEVTMPFS=y", false},
	{[]string{"PROC_FS"}, "/init cannot read its orders from /proc/cmdline", "CONFIG_PROC_FS=y", false},
	{[]string{"BINFMT_ELF"}, "no ELF programs run, /init included", "CONFIG_BINFMT_ELF=y", false},
	{[]string{"FUTEX"}, "Go programs hang or die without futexes", "CONFIG_FUTEX=y", false},
	{[]string{"EPOLL"}, "the Go runtime's network poller needs epoll", "CONFIG_EPOLL=y", false},
	{[]string{"EVENTFD"}, "the Go runtime throws if eventfd fails", "CONFIG_EVENTFD=y", false},
	{[]string{"PRINTK_TIME"}, "no [ sec.usec] stamps: time-to-crash of kernel crashes falls back to the host clock", "CONFIG_PRINTK_TIME=y", true},
	{[]string{"SMP"}, "one vCPU only: races like the seed's vDSO bug cannot happen", "CONFIG_SMP=y", true},
	{[]string{"ACPI"}, "no ACPI power-off: the guest ends by restart instead", "CONFIG_ACPI=y CONFIG_PCI=y", true},
	{[]string{"MAGIC_SYSRQ"}, "selftest -mode sysrq cannot crash the kernel", "CONFIG_MAGIC_SYSRQ=y", true},
}

// A Finding is the result of one Check.
type Finding struct {
	Check
	OK bool
}

// Verify runs Checks against c.
func Verify(c *Config) []Finding {
	var out []Finding
	for _, ch := range Checks {
		ok := false
		for _, o := range ch.Options {
			ok = ok || c.Enabled(o)
		}
		out = append(out, Finding{ch, ok})
	}
	return out
}

// Name is the check's option list as users write it.
func (c Check) Name() string {
	return "CONFIG_" + strings.Join(c.Options, "|CONFIG_")
}

// PVPanic says whether a guest panic can reach the host through qemu's
// isa pvpanic device, which crashrig adds to every run: the kernel needs
// the pvpanic driver for it (PVPANIC_MMIO, which binds the device's ACPI
// id QEMU0001) built in. A module does not load by itself from crashrig's
// image; `crashrig run --modules DIR` carries the kernel package's
// modules in and /init loads them.
func PVPanic(c *Config) (ok bool, why string) {
	switch v := c.Options["PVPANIC_MMIO"]; {
	case c.Options["PVPANIC"] != "y":
		return false, "no pvpanic support (CONFIG_PVPANIC is not set): a panic is seen on the console only"
	case v == "y":
		return true, "CONFIG_PVPANIC_MMIO=y: a panic is reported to qemu even when the console shows nothing"
	case v == "m":
		return false, "CONFIG_PVPANIC_MMIO=m is a module: give crashrig run --modules DIR (the kernel package's lib/modules/RELEASE) so /init loads pvpanic.ko and pvpanic-mmio.ko, or build it in (=y)"
	}
	return false, "CONFIG_PVPANIC_MMIO is not set (qemu's isa pvpanic device needs it; PVPANIC_PCI drives only -device pvpanic-pci): a panic is seen on the console only"
}
