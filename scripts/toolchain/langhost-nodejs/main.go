// Command pulumi-language-nodejs is fleetlab's Node.js language host for the Pulumi
// engine: the plugin the engine starts to run a Node.js Pulumi program. Pulumi's own
// host lives in a Go module that the module proxy reachable here does not serve, so
// fleetlab builds this one (see README.md). It speaks the engine's LanguageRuntime
// gRPC protocol and runs the program with the `cmd/run` entry point that ships in the
// project's own @pulumi/pulumi, which does the real work (ts-node, closures, the
// resource monitor connection).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// version is set with -ldflags "-X main.version=v3.x.y" by scripts/toolchain.sh.
var version = "v0.0.0-dev"

func main() {
	// The engine passes its own address as the last positional argument; flags it may
	// add in future are accepted and ignored rather than failing the whole run.
	tracing := flag.String("tracing", "", "tracing endpoint (passed on to the program)")
	flag.String("root", "", "ignored: the project root comes with each request")
	flag.Parse()
	if flag.NArg() < 1 {
		fmt.Fprintln(os.Stderr, "usage: pulumi-language-nodejs [flags] ENGINE_ADDRESS")
		os.Exit(2)
	}

	host := &languageHost{engineAddress: flag.Arg(flag.NArg() - 1), tracing: *tracing}
	cancel := make(chan bool)
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: cancel,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, host)
			return nil
		},
		Options: rpcutil.OpenTracingServerInterceptorOptions(nil),
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: could not start the gRPC server: %v\n", err)
		os.Exit(1)
	}
	// The plugin protocol: the first line on stdout is the port the engine dials.
	fmt.Printf("%d\n", handle.Port)

	// The engine stops plugins with SIGINT/SIGTERM or by closing the connection.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		cancel <- true
	}()
	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: %v\n", err)
		os.Exit(1)
	}
}

type languageHost struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	engineAddress string
	tracing       string
}

func (h *languageHost) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

// GetRequiredPlugins lists no plugins: fleetlab's resources come from dynamic
// providers (the `pulumi-nodejs` plugin, which the engine loads when the first dynamic
// resource registers) and component resources, and the engine loads any other
// provider on first use as well. Listing none also means the engine never tries to
// install one, which must not happen here.
func (h *languageHost) GetRequiredPlugins(
	context.Context, *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

func (h *languageHost) GetRequiredPackages(
	context.Context, *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

func (h *languageHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	return runProgram(ctx, h.engineAddress, h.tracing, req), nil
}
