package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/crashrig/crashrig/internal/testkernel"
)

const examples = "../../examples"

// shardsMatch runs shard i of n for every i at once through runShard, merges
// the shard databases (twice) and checks the totals against an unsharded
// batch of the same plan.
func shardsMatch(t *testing.T, n int, runShard func(i int, plan, results string) *exec.Cmd) {
	bin := crashrigBin(t)
	dir := t.TempDir()
	plan := quickPlan(t, dir, 3)
	ref := filepath.Join(dir, "ref.db")
	if out, code := runBatchProc(t, bin, dir, 10*time.Minute, "batch", plan, "-j", "2", "--db", ref); code != 0 {
		t.Fatalf("unsharded batch: exit %d\n%s", code, out)
	}
	want := counted(t, dbCounts(t, ref))
	results := filepath.Join(dir, "results")
	var wg sync.WaitGroup
	errs := make([]error, n)
	outs := make([][]byte, n)
	slots := make(chan bool, 2) // two shard processes at a time: the test host has two cores
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			slots <- true
			defer func() { <-slots }()
			cmd := runShard(i, plan, results)
			cmd.Dir = dir
			outs[i], errs[i] = cmd.CombinedOutput()
		}()
	}
	wg.Wait()
	var shards []string
	for i := 0; i < n; i++ {
		if errs[i] != nil {
			t.Fatalf("shard %d: %v\n%s", i, errs[i], outs[i])
		}
		shards = append(shards, filepath.Join(results, fmt.Sprintf("shard-%d.db", i)))
	}
	all := filepath.Join(dir, "all.db")
	for round := 0; round < 2; round++ {
		out, code := runBatchProc(t, bin, dir, time.Minute, append(append([]string{"merge"}, shards...), "--db", all)...)
		if code != 0 {
			t.Fatalf("merge: exit %d\n%s", code, out)
		}
		if got := counted(t, dbCounts(t, all)); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("merge round %d: %v; the unsharded batch counts %v", round+1, got, want)
			t.Logf("merged runs:\n%s\nunsharded runs:\n%s", verdictList(t, all), verdictList(t, ref))
		}
		t.Logf("merge round %d: %s", round+1, strings.TrimSpace(out))
	}
	// The merged report joins the shards into one batch.
	out, code := runBatchProc(t, bin, dir, time.Minute, "report", "--db", all, "--format", "md")
	if code != 0 || !strings.Contains(out, fmt.Sprintf("%d shards", n)) {
		t.Errorf("report of the merged database (exit %d) does not join the %d shards:\n%s", code, n, out)
	}
}

// TestSlurmExample runs examples/slurm/crashrig-array.sbatch as the 4 tasks
// of a local job array, merges them, and compares with an unsharded batch.
func TestSlurmExample(t *testing.T) {
	if testing.Short() {
		t.Skip("boots real kernels")
	}
	script, _ := filepath.Abs(filepath.Join(examples, "slurm", "crashrig-array.sbatch"))
	b, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "#SBATCH --array=0-15") {
		t.Error("the script does not declare --array=0-15")
	}
	bin := crashrigBin(t)
	shardsMatch(t, 4, func(i int, plan, results string) *exec.Cmd {
		cmd := exec.Command("bash", script)
		cmd.Env = append(batchEnv(filepath.Dir(plan)), "PLAN="+plan, "RESULTS="+results, "CRASHRIG="+bin,
			fmt.Sprintf("SLURM_ARRAY_TASK_ID=%d", i), "SLURM_ARRAY_TASK_COUNT=4", "SLURM_ARRAY_JOB_ID=4242", "SLURM_CPUS_PER_TASK=2")
		return cmd
	})
}

// TestKubernetesExample checks examples/kubernetes/crashrig-job.yaml as an
// Indexed Job and runs its container command as 4 local completion indexes.
func TestKubernetesExample(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(examples, "kubernetes", "crashrig-job.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var job struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
		Spec       struct {
			CompletionMode string `yaml:"completionMode"`
			Completions    int    `yaml:"completions"`
			Parallelism    int    `yaml:"parallelism"`
			Template       struct {
				Spec struct {
					RestartPolicy string `yaml:"restartPolicy"`
					Containers    []struct {
						Command []string `yaml:"command"`
						Args    []string `yaml:"args"`
						Env     []struct {
							Name  string `yaml:"name"`
							Value string `yaml:"value"`
						} `yaml:"env"`
					} `yaml:"containers"`
				} `yaml:"spec"`
			} `yaml:"template"`
		} `yaml:"spec"`
	}
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&job); err != nil {
		// KnownFields rejects the fields this check does not model; decode loosely then.
		if err := yaml.Unmarshal(b, &job); err != nil {
			t.Fatal(err)
		}
	}
	s := job.Spec
	if job.APIVersion != "batch/v1" || job.Kind != "Job" || s.CompletionMode != "Indexed" || s.Completions < 2 {
		t.Fatalf("not an Indexed Job: %+v", job)
	}
	if p := s.Template.Spec.RestartPolicy; p != "OnFailure" && p != "Never" {
		t.Errorf("restartPolicy %q: a Job wants OnFailure or Never", p)
	}
	if len(s.Template.Spec.Containers) != 1 {
		t.Fatalf("want one container, got %d", len(s.Template.Spec.Containers))
	}
	c := s.Template.Spec.Containers[0]
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	if env["SHARDS"] != fmt.Sprint(s.Completions) {
		t.Errorf("SHARDS=%q but completions %d: the shards would not cover the plan", env["SHARDS"], s.Completions)
	}
	if len(c.Command) != 2 || c.Command[0] != "/bin/sh" || len(c.Args) != 1 || !strings.Contains(c.Args[0], "JOB_COMPLETION_INDEX/$SHARDS") {
		t.Fatalf("command %q %q: want /bin/sh -c with the shard from JOB_COMPLETION_INDEX", c.Command, c.Args)
	}
	if testing.Short() {
		t.Skip("boots real kernels")
	}
	bin := crashrigBin(t)
	testkernel.Path(t)
	shardsMatch(t, 4, func(i int, plan, results string) *exec.Cmd {
		cmd := exec.Command(c.Command[0], c.Command[1], c.Args[0])
		cmd.Env = append(batchEnv(filepath.Dir(plan)), "PATH="+filepath.Dir(bin)+":"+os.Getenv("PATH"),
			"PLAN="+plan, "RESULTS="+results, "SHARDS=4", "TAG=job-uid-1", fmt.Sprintf("JOB_COMPLETION_INDEX=%d", i))
		return cmd
	})
}

// TestCIExample checks examples/ci/github-actions.yml: every step's shell
// parses, and the batch step's command line, run locally as a dry run,
// accepts its flags and the example plan.
func TestCIExample(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(examples, "ci", "github-actions.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		Name string         `yaml:"name"`
		On   map[string]any `yaml:"on"`
		Jobs map[string]struct {
			RunsOn string `yaml:"runs-on"`
			Steps  []struct {
				Name string            `yaml:"name"`
				Uses string            `yaml:"uses"`
				Run  string            `yaml:"run"`
				With map[string]string `yaml:"with"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(b, &wf); err != nil {
		t.Fatal(err)
	}
	job, ok := wf.Jobs["batch"]
	if !ok || job.RunsOn == "" || wf.On["schedule"] == nil {
		t.Fatalf("workflow %+v: want a scheduled job named batch", wf)
	}
	var batchRun string
	kvm, junit := false, false
	for _, st := range job.Steps {
		if st.Run == "" {
			continue
		}
		if out, err := exec.Command("bash", "-n", "-c", st.Run).CombinedOutput(); err != nil {
			t.Errorf("step %q: shell does not parse: %v\n%s", st.Name, err, out)
		}
		kvm = kvm || strings.Contains(st.Run, "/dev/kvm")
		if strings.Contains(st.Run, "crashrig\" batch") {
			batchRun = st.Run
		}
		junit = junit || strings.Contains(st.Uses+st.With["report_paths"], "results.xml")
	}
	for _, st := range job.Steps {
		junit = junit || st.With["report_paths"] == "results.xml"
	}
	if !kvm || batchRun == "" || !junit {
		t.Fatalf("want a step that looks for /dev/kvm (%v), a crashrig batch step (%q) and a JUnit report step (%v)", kvm, batchRun, junit)
	}
	if testing.Short() {
		t.Skip("needs the test kernel")
	}
	kernel := testkernel.Path(t)
	bin := crashrigBin(t)
	repo := t.TempDir()
	os.MkdirAll(filepath.Join(repo, "examples"), 0o755)
	plan, _ := os.ReadFile(filepath.Join(examples, "plan.yaml"))
	os.WriteFile(filepath.Join(repo, "examples", "plan.yaml"), plan, 0o644)
	if err := os.Symlink(kernel, filepath.Join(repo, "examples", "bzImage")); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", "-c", strings.TrimSpace(batchRun)+" --dry-run")
	cmd.Dir = repo
	cmd.Env = append(batchEnv(repo), "RUNNER_TEMP="+filepath.Dir(bin))
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "stock/flaky/smp2") {
		t.Errorf("the batch step as a dry run: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
