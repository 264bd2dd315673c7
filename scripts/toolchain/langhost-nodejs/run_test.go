package main

import (
	"reflect"
	"testing"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/structpb"
)

func request(t *testing.T, options map[string]any) *pulumirpc.RunRequest {
	t.Helper()
	opts, err := structpb.NewStruct(options)
	if err != nil {
		t.Fatal(err)
	}
	return &pulumirpc.RunRequest{
		MonitorAddress: "127.0.0.1:1",
		Project:        "fleetlab",
		Stack:          "local",
		DryRun:         true,
		Parallel:       4,
		Config:         map[string]string{"fleetlab:machines": "false"},
		Info: &pulumirpc.ProgramInfo{
			RootDirectory:    "/p",
			ProgramDirectory: "/p",
			EntryPoint:       ".",
			Options:          opts,
		},
	}
}

// The arguments and variables @pulumi/pulumi's cmd/run reads (cmd/run/index.ts and
// run.ts), for the runtime options Pulumi.yaml gives.
func TestNodeCommand(t *testing.T) {
	req := request(t, map[string]any{
		"typescript": true,
		"nodeargs":   "--max-old-space-size=512  --cpu-prof",
		"tsconfig":   "tsconfig.pulumi.json",
	})
	args, env, err := nodeCommand(req, "/p/node_modules/@pulumi/pulumi/cmd/run", "127.0.0.1:2", "")
	if err != nil {
		t.Fatal(err)
	}
	wantArgs := []string{
		"--max-old-space-size=512", "--cpu-prof", "/p/node_modules/@pulumi/pulumi/cmd/run",
		"--monitor", "127.0.0.1:1", "--engine", "127.0.0.1:2", "--project", "fleetlab",
		"--stack", "local", "--pwd", "/p", "--root-directory", "/p", "--dry-run",
		"--parallel", "4", ".",
	}
	if !reflect.DeepEqual(args, wantArgs) {
		t.Errorf("args\n got %q\nwant %q", args, wantArgs)
	}
	wantEnv := []string{
		`PULUMI_CONFIG={"fleetlab:machines":"false"}`,
		"PULUMI_CONFIG_SECRET_KEYS=[]",
		"PULUMI_NODEJS_TYPESCRIPT=true",
		"PULUMI_NODEJS_TSCONFIG_PATH=tsconfig.pulumi.json",
	}
	if !reflect.DeepEqual(env, wantEnv) {
		t.Errorf("env\n got %q\nwant %q", env, wantEnv)
	}
}

// Without runtime options: TypeScript on (Pulumi's documented default), no tsconfig
// variable, and an old engine's `program` as the entry point.
func TestNodeCommandDefaults(t *testing.T) {
	req := request(t, map[string]any{})
	req.Info.EntryPoint = ""
	req.Program = "infra/index.ts" //nolint:staticcheck // what an older engine sends
	req.DryRun, req.Parallel = false, 0
	args, env, err := nodeCommand(req, "run", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if last := args[len(args)-1]; last != "infra/index.ts" {
		t.Errorf("entry point %q, want infra/index.ts", last)
	}
	for _, a := range args {
		if a == "--dry-run" || a == "--parallel" || a == "--engine" || a == "--tracing" {
			t.Errorf("unexpected flag %s in %q", a, args)
		}
	}
	if env[2] != "PULUMI_NODEJS_TYPESCRIPT=true" || len(env) != 3 {
		t.Errorf("env %q", env)
	}
}
