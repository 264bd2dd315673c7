package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// exitUserActionable is the exit code @pulumi/pulumi's cmd/run uses after it has
// already shown the user an actionable message: the engine must not add another.
const exitUserActionable = 32

// runProgram runs one Pulumi program to completion: `node [nodeargs] <cmd/run> flags
// <entry point>`, with the stack's config in the environment the SDK reads.
func runProgram(ctx context.Context, engine, tracing string, req *pulumirpc.RunRequest) *pulumirpc.RunResponse {
	dir, _ := programPlace(req)
	node, err := exec.LookPath("node")
	if err != nil {
		return failed("could not find node on PATH: %v", err)
	}
	runPath, err := resolveRunScript(ctx, node, dir)
	if err != nil {
		return failed("cannot find @pulumi/pulumi/cmd/run from %s (run 'npm ci' in the project): %v", dir, err)
	}
	args, env, err := nodeCommand(req, runPath, engine, tracing)
	if err != nil {
		return failed("%v", err)
	}

	cmd := exec.CommandContext(ctx, node, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), env...)

	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return &pulumirpc.RunResponse{}
	case errors.As(err, &exit) && exit.ExitCode() == exitUserActionable:
		return &pulumirpc.RunResponse{Bail: true}
	case errors.As(err, &exit):
		return failed("the Node.js program exited with code %d", exit.ExitCode())
	default:
		return failed("could not run node: %v", err)
	}
}

// nodeCommand is what runProgram starts: node's arguments after the node binary, and
// the variables it adds to the environment (the stack's config and how the SDK loads
// TypeScript). Pure, so that a test can hold it to what @pulumi/pulumi's cmd/run reads.
func nodeCommand(req *pulumirpc.RunRequest, runPath, engine, tracing string) ([]string, []string, error) {
	dir, entry := programPlace(req)
	opts := runtimeOptions(req.GetInfo())
	config, err := json.Marshal(nonNil(req.GetConfig()))
	if err != nil {
		return nil, nil, fmt.Errorf("cannot encode the stack config: %w", err)
	}
	secretKeys, err := json.Marshal(nonNilSlice(req.GetConfigSecretKeys()))
	if err != nil {
		return nil, nil, fmt.Errorf("cannot encode the stack's secret config keys: %w", err)
	}

	args := append(strings.Fields(opts.nodeargs), runPath)
	flagIf := func(name, value string) {
		if value != "" {
			args = append(args, "--"+name, value)
		}
	}
	flagIf("monitor", req.GetMonitorAddress())
	flagIf("engine", engine)
	flagIf("organization", req.GetOrganization())
	flagIf("project", req.GetProject())
	flagIf("stack", req.GetStack())
	flagIf("pwd", dir)
	flagIf("root-directory", req.GetInfo().GetRootDirectory())
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	if req.GetParallel() > 0 {
		flagIf("parallel", strconv.Itoa(int(req.GetParallel())))
	}
	flagIf("tracing", tracing)
	args = append(args, entry)
	args = append(args, req.GetArgs()...)

	env := []string{
		"PULUMI_CONFIG=" + string(config),
		"PULUMI_CONFIG_SECRET_KEYS=" + string(secretKeys),
		"PULUMI_NODEJS_TYPESCRIPT=" + strconv.FormatBool(opts.typescript),
	}
	if opts.tsconfig != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+opts.tsconfig)
	}
	return args, env, nil
}

// programPlace is the program's directory and entry point, from what the engine sent.
func programPlace(req *pulumirpc.RunRequest) (dir, entry string) {
	info := req.GetInfo()
	dir = info.GetProgramDirectory()
	if dir == "" {
		dir = req.GetPwd()
	}
	entry = info.GetEntryPoint()
	if entry == "" {
		entry = req.GetProgram() //nolint:staticcheck // older engines send only this
	}
	if entry == "" {
		entry = "."
	}
	return dir, entry
}

type nodeOptions struct {
	typescript bool
	nodeargs   string
	tsconfig   string
}

// runtimeOptions reads Pulumi.yaml's `runtime.options` for nodejs; the same keys and
// defaults as Pulumi's documentation gives (typescript defaults to true).
func runtimeOptions(info *pulumirpc.ProgramInfo) nodeOptions {
	o := nodeOptions{typescript: true}
	fields := info.GetOptions().GetFields()
	if v, ok := fields["typescript"]; ok {
		o.typescript = v.GetBoolValue()
	}
	o.nodeargs = fields["nodeargs"].GetStringValue()
	o.tsconfig = fields["tsconfig"].GetStringValue()
	return o
}

// resolveRunScript asks node itself where the program's @pulumi/pulumi is, so the
// program always runs with the SDK version its own package.json pins.
func resolveRunScript(ctx context.Context, node, dir string) (string, error) {
	out, err := exec.CommandContext(ctx, node, "-e",
		`process.stdout.write(require.resolve("@pulumi/pulumi/cmd/run", { paths: [process.argv[1]] }))`,
		dir).Output()
	if err != nil {
		return "", err
	}
	return string(out), nil
}

func failed(format string, a ...any) *pulumirpc.RunResponse {
	return &pulumirpc.RunResponse{Error: fmt.Sprintf(format, a...)}
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func nonNilSlice(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
