// libcni-driver drives CNI plugins through libcni (Debian's golang-github-appc-cni-dev), the library container
// runtimes such as containerd and CRI-O are built on, so tests exercise branch-eni exactly as a runtime would:
// conflist loading, version negotiation, prevResult chaining, the result cache used by DEL and CHECK.
//
//	libcni-driver add|check|del|validate -conflist FILE -cni-path DIRS [-netns PATH -id ID -ifname eth0 -args K=V;K=V -cache-dir DIR]
//
// add prints the final result JSON on stdout; errors go to stderr with exit status 1.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/containernetworking/cni/libcni"
)

func main() {
	if len(os.Args) < 2 {
		fail(fmt.Errorf("usage: libcni-driver add|check|del|validate [flags]"))
	}
	cmd := os.Args[1]
	flags := flag.NewFlagSet(cmd, flag.ExitOnError)
	conflist := flags.String("conflist", "", "network configuration list file")
	cniPath := flags.String("cni-path", "", "plugin directories, colon-separated")
	netns := flags.String("netns", "", "network namespace path")
	id := flags.String("id", "", "container id")
	ifname := flags.String("ifname", "eth0", "interface name in the container")
	args := flags.String("args", "", "CNI_ARGS as K=V;K=V")
	cacheDir := flags.String("cache-dir", "", "libcni result cache directory")
	if err := flags.Parse(os.Args[2:]); err != nil {
		fail(err)
	}

	list, err := libcni.ConfListFromFile(*conflist)
	if err != nil {
		fail(err)
	}
	cni := libcni.NewCNIConfigWithCacheDir(filepath.SplitList(*cniPath), *cacheDir, nil)
	rt := &libcni.RuntimeConf{ContainerID: *id, NetNS: *netns, IfName: *ifname, CacheDir: *cacheDir}
	for _, kv := range strings.Split(*args, ";") {
		if kv == "" {
			continue
		}
		parts := strings.SplitN(kv, "=", 2)
		if len(parts) != 2 {
			fail(fmt.Errorf("bad -args element %q", kv))
		}
		rt.Args = append(rt.Args, [2]string{parts[0], parts[1]})
	}

	ctx := context.Background()
	switch cmd {
	case "add":
		result, err := cni.AddNetworkList(ctx, list, rt)
		if err != nil {
			fail(err)
		}
		if err := result.Print(); err != nil {
			fail(err)
		}
	case "check":
		if err := cni.CheckNetworkList(ctx, list, rt); err != nil {
			fail(err)
		}
	case "del":
		if err := cni.DelNetworkList(ctx, list, rt); err != nil {
			fail(err)
		}
	case "validate":
		caps, err := cni.ValidateNetworkList(ctx, list)
		if err != nil {
			fail(err)
		}
		out, _ := json.Marshal(map[string]interface{}{"capabilities": caps})
		fmt.Println(string(out))
	default:
		fail(fmt.Errorf("unknown command %q", cmd))
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
