using System.Net;
using System.Net.Sockets;
using BranchEni.Netlink;

namespace BranchEni.Agent.Cli;

/// <summary>
/// Finds a branch pod's network namespace from the node side alone. The records do not name it, so every namespace
/// on the machine is a candidate: runtime bind mounts (/run/netns, where containerd and CRI-O keep pod sandboxes)
/// and every process's /proc/PID/ns/net (the pause process). The pod's is the one holding the host veth's peer:
/// a veth whose index is the host veth's IFLA_LINK and whose own IFLA_LINK is the host veth's index.
/// </summary>
internal sealed class PodNamespaces
{
    private readonly List<Candidate> _candidates;
    private readonly string? _nodeNetns;

    private PodNamespaces(List<Candidate> candidates, string? nodeNetns)
    {
        _candidates = candidates;
        _nodeNetns = nodeNetns;
    }

    /// <summary>A namespace and its veth ends (index, peer index).</summary>
    private sealed record Candidate(string Path, IReadOnlyList<Link> Veths);

    /// <summary>Lists every other namespace once (by nsfs inode); the node's own is skipped.</summary>
    public static PodNamespaces Scan(string? nodeNetns)
    {
        string? nodeId;
        using (var node = nodeNetns is null ? NetworkNamespace.OpenCurrent() : NetworkNamespace.Open(nodeNetns))
        {
            nodeId = Identity(node);
        }

        var seen = new HashSet<string>(StringComparer.Ordinal) { nodeId ?? "" };
        var candidates = new List<Candidate>();
        foreach (var path in CandidatePaths())
        {
            try
            {
                using var ns = NetworkNamespace.Open(path);
                if (Identity(ns) is not { } id || !seen.Add(id))
                {
                    continue;
                }

                using var handle = ns.OpenNetlink();
                var veths = handle.ListLinks().Where(l => l.Kind == "veth" && l.ParentIndex is not null).ToList();
                if (veths.Count > 0)
                {
                    candidates.Add(new Candidate(path, veths));
                }
            }
            catch (NetlinkException)
            {
                // A process that exited, or a mount that went, while we looked: not a pod we can check now.
            }
        }

        return new PodNamespaces(candidates, nodeNetns);
    }

    /// <summary>The namespace path and link name of the host veth's peer, or why it cannot be told.</summary>
    public (string? Path, string? PodLink, string? Problem) Find(Link hostVeth, IPAddress podIp)
    {
        ArgumentNullException.ThrowIfNull(hostVeth);
        if (hostVeth.ParentIndex is not { } peerIndex)
        {
            return (null, null, $"host veth {hostVeth.Name} has no peer");
        }

        var matches = _candidates
            .SelectMany(c => c.Veths.Where(v => v.Index == peerIndex && v.ParentIndex == hostVeth.Index).Select(v => (c.Path, Link: v)))
            .ToList();
        // Index pairs repeat across node namespaces (kind-style nodes, tests): the peer's namespace id, as the node
        // numbers it, settles which candidate is the pod's; without one (very old kernels) the pod's address does.
        var byId = SameNamespaceId(hostVeth, matches.Select(m => m.Path));
        if (byId is not null)
        {
            matches = matches.Where(m => byId.Contains(m.Path)).ToList();
        }
        else if (matches.Count > 1)
        {
            matches = matches.Where(m => HasAddress(m.Path, m.Link.Index, podIp)).ToList();
        }

        return matches.Count switch
        {
            1 => (matches[0].Path, matches[0].Link.Name, null),
            0 => (null, null, $"no network namespace holds the peer of host veth {hostVeth.Name} (peer index {peerIndex})"),
            _ => (null, null, $"{matches.Count} network namespaces could hold the peer of host veth {hostVeth.Name}: "
                + string.Join(", ", matches.Select(m => m.Path))),
        };
    }

    /// <summary>The candidate paths whose namespace id (in the node's numbering) is the host veth's link-netnsid;
    /// null when the kernel reports none.</summary>
    private HashSet<string>? SameNamespaceId(Link hostVeth, IEnumerable<string> paths)
    {
        try
        {
            using var node = _nodeNetns is null ? NetworkNamespace.OpenCurrent() : NetworkNamespace.Open(_nodeNetns);
            using var ids = NetnsIds.Open(node);
            if (ids.LinkNetnsId(hostVeth.Index) is not { } peerId)
            {
                return null;
            }

            var same = new HashSet<string>(StringComparer.Ordinal);
            foreach (var path in paths)
            {
                using var candidate = NetworkNamespace.Open(path);
                if (ids.IdOf(candidate) == peerId)
                {
                    same.Add(path);
                }
            }

            return same;
        }
        catch (Exception e) when (e is NetlinkException or IOException)
        {
            return null;
        }
    }

    private static bool HasAddress(string path, int index, IPAddress ip)
    {
        try
        {
            using var handle = NetlinkHandle.Open(path);
            return handle.ListAddresses(index, AddressFamily.InterNetwork).Any(a => a.Address.Equals(ip));
        }
        catch (NetlinkException)
        {
            return false;
        }
    }

    private static IEnumerable<string> CandidatePaths()
    {
        foreach (var dir in new[] { "/run/netns", "/var/run/netns" })
        {
            if (Directory.Exists(dir))
            {
                foreach (var file in Directory.EnumerateFiles(dir).Order(StringComparer.Ordinal))
                {
                    yield return file;
                }
            }
        }

        // Many processes share one namespace: compare the cheap readlink first, open each namespace once.
        var links = new HashSet<string>(StringComparer.Ordinal);
        foreach (var proc in Directory.EnumerateDirectories("/proc"))
        {
            var name = Path.GetFileName(proc);
            if (name.Length > 0 && name.All(char.IsAsciiDigit) && ReadLink($"{proc}/ns/net") is { } target && links.Add(target))
            {
                yield return $"{proc}/ns/net";
            }
        }
    }

    /// <summary>The namespace's nsfs device and inode: the same for its bind mount and its processes' links.</summary>
    private static string? Identity(NetworkNamespace ns) =>
        ns.Identity is var (device, inode) ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{device}:{inode}") : null;

    private static string? ReadLink(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
