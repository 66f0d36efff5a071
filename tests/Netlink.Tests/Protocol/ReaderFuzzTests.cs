using System.Net;
using System.Net.NetworkInformation;
using BranchEni.Netlink.Interop;
using BranchEni.Netlink.Protocol;
using BranchEni.Netlink.Tests.Support;

namespace BranchEni.Netlink.Tests.Protocol;

/// <summary>
/// The reader and every answer parser face random and mutated datagrams: real kernel dumps from a namespace with
/// links, addresses, routes, rules and neighbours, plus error answers with extended ack. The only acceptable failure
/// is a <see cref="NetlinkException"/> (EBADMSG); anything else (an index out of range, an over-read) fails the test.
/// The seed is printed so a failure can be replayed.
/// </summary>
public sealed class ReaderFuzzTests
{
    private const int Cases = 30_000;
    private static readonly Lazy<List<byte[]>> KernelCorpus = new(CaptureKernelAnswers);

    [Fact]
    public void Random_and_mutated_datagrams_never_crash_the_reader()
    {
        var seed = Environment.TickCount;
        var random = new Random(seed);
        var corpus = KernelCorpus.Value.Concat(SyntheticAnswers()).ToList();
        var decoded = 0;
        var refused = 0;
        for (var i = 0; i < Cases; i++)
        {
            var datagram = i % 10 == 0 ? RandomBytes(random) : Mutate(random, corpus[random.Next(corpus.Count)]);
            foreach (var retype in new[] { false, true })
            {
                try
                {
                    var objects = DecodeEverything(datagram, retype);
                    decoded += retype ? 0 : objects;
                }
                catch (NetlinkException e) when (e.Errno == Errno.EBADMSG)
                {
                    refused += retype ? 0 : 1;
                }
#pragma warning disable CA1031 // the point: anything else is a bug, reported with the input
                catch (Exception e)
#pragma warning restore CA1031
                {
                    Assert.Fail($"seed {seed}, case {i}, retype {retype}: {e.GetType().Name} on {Convert.ToHexStringLower(datagram)}\n{e}");
                }
            }
        }

        // Both outcomes must really occur, or the mutations are not exercising the checks.
        Assert.True(decoded > Cases / 10, $"only {decoded} objects decoded (seed {seed})");
        Assert.True(refused > Cases / 10, $"only {refused} datagrams refused (seed {seed})");
    }

    [Fact]
    public void The_unmutated_kernel_answers_decode_completely()
    {
        var corpus = KernelCorpus.Value;
        Assert.True(corpus.Count >= 5, "expected answers to five dumps");
        var objects = corpus.Sum(d => DecodeEverything(d, retype: false));
        Assert.True(objects >= 15, $"decoded only {objects} objects from the kernel's answers");
    }

    /// <summary>Reads every message and hands it to every parser, under every message type when
    /// <paramref name="retype"/> (a link answer read as a route must fail cleanly too); returns objects decoded.</summary>
    private static int DecodeEverything(byte[] datagram, bool retype)
    {
        var count = 0;
        var reader = new MessageReader(datagram);
        while (reader.TryRead(out var message))
        {
            foreach (var type in retype ? ParsedTypes : [message.Type])
            {
                var retyped = new NetlinkMessage(type, message.Flags, message.Sequence, message.PortId, message.Payload);
                count += (LinkCodec.Parse(retyped) is not null ? 1 : 0) + (AddressCodec.Parse(retyped) is not null ? 1 : 0)
                    + (RouteCodec.Parse(retyped) is not null ? 1 : 0) + (RuleCodec.Parse(retyped) is not null ? 1 : 0)
                    + (NeighbourCodec.Parse(retyped) is not null ? 1 : 0);
            }

            if (message.Type == Nlmsg.Error)
            {
                _ = NetlinkSocket.ParseError(message, out _);
            }
        }

        return count;
    }

    private static readonly ushort[] ParsedTypes =
        [(ushort)RtmType.NewLink, (ushort)RtmType.NewAddr, (ushort)RtmType.NewRoute, (ushort)RtmType.NewRule, (ushort)RtmType.NewNeigh];

    private static byte[] RandomBytes(Random random)
    {
        var bytes = new byte[random.Next(0, 200)];
        random.NextBytes(bytes);
        if (bytes.Length >= 4 && random.Next(2) == 0)
        {
            // A plausible nlmsg_len gets past the first check more often.
            BitConverter.TryWriteBytes(bytes, (uint)random.Next(16, Math.Max(17, bytes.Length + 8)));
        }

        return bytes;
    }

    private static byte[] Mutate(Random random, byte[] original)
    {
        var bytes = original.ToList();
        for (var edits = random.Next(1, 5); edits > 0 && bytes.Count > 0; edits--)
        {
            var at = random.Next(bytes.Count);
            switch (random.Next(7))
            {
                case 0: bytes[at] ^= (byte)(1 << random.Next(8)); break;
                case 1: bytes[at] = random.Next(2) == 0 ? (byte)0 : (byte)0xff; break;
                case 2: bytes.RemoveRange(at, bytes.Count - at); break;
                case 3: bytes.Insert(at, (byte)random.Next(256)); break;
                case 4: bytes.RemoveAt(at); break;
                case 5: bytes[at] = (byte)random.Next(256); break;
                default:
                    // Aim at a length field: every 4-byte boundary may start an nlmsg_len or nla_len.
                    var field = at & ~3;
                    if (field + 2 <= bytes.Count)
                    {
                        var value = (ushort)random.Next(0, 70);
                        bytes[field] = (byte)value;
                        bytes[field + 1] = (byte)(value >> 8);
                    }

                    break;
            }
        }

        return [.. bytes];
    }

    /// <summary>Answers the kernel does not give on demand: errors with and without extended ack, capped or not.</summary>
    private static IEnumerable<byte[]> SyntheticAnswers()
    {
        foreach (var (flags, text) in new[] { (NlmFlags.Capped | NlmFlags.AckTlvs, "Nexthop has invalid gateway"), (NlmFlags.None, null) })
        {
            var buffer = new byte[256];
            var w = new NetlinkWriter(buffer);
            var msg = w.BeginMessage((RtmType)Nlmsg.Error, flags);
            w.Write(-Errno.ENETUNREACH);
            w.Write(new NlMsgHdr { Length = 28, Type = (ushort)RtmType.NewRoute });
            if (text is not null)
            {
                w.WriteString(NlmsgErrAttr.Msg, text);
                w.WriteUInt32(NlmsgErrAttr.Offset, 20);
            }

            w.EndMessage(msg);
            yield return buffer.AsSpan(0, w.Length).ToArray();
        }
    }

    /// <summary>Dumps links, addresses, routes, rules and neighbours from a populated throwaway namespace through a raw
    /// socket, keeping each datagram exactly as the kernel sent it.</summary>
    private static List<byte[]> CaptureKernelAnswers()
    {
        using var ns = new TestNamespace();
        using (var nl = ns.OpenHandle())
        {
            nl.AddVethPair(new VethPairSpec { Name = "f0", PeerName = "f1", Mac = PhysicalAddress.Parse("02-00-00-00-00-01") });
            var index = nl.GetLink("f0").Index;
            nl.SetLinkUp(index);
            nl.SetLinkAlias(index, "fuzz corpus");
            nl.AddAddress(new InterfaceAddress { LinkIndex = index, Address = IPAddress.Parse("10.3.0.1"), PrefixLength = 24 });
            nl.AddAddress(new InterfaceAddress { LinkIndex = index, Address = IPAddress.Parse("2001:db8::1"), PrefixLength = 64, NoDad = true });
            nl.AddRoute(new Route { Destination = IPNetwork.Parse("0.0.0.0/0"), Gateway = IPAddress.Parse("10.3.0.254"), Table = 107 });
            nl.AddRule(new Rule { Priority = 10, IifName = "f0", Table = 107 });
            nl.AddNeighbour(new Neighbour { LinkIndex = index, Address = IPAddress.Parse("10.3.0.9"), Mac = PhysicalAddress.Parse("02-00-00-00-00-09") });
        }

        return ns.Namespace.Run(() =>
        {
            var datagrams = new List<byte[]>();
            var buffer = new byte[1024];
            foreach (var encode in new Func<byte[], int>[]
            {
                b => LinkCodec.Dump(b), b => AddressCodec.Dump(b, null), b => RouteCodec.Dump(b, System.Net.Sockets.AddressFamily.InterNetwork),
                b => RuleCodec.Dump(b, System.Net.Sockets.AddressFamily.InterNetwork), b => NeighbourCodec.Dump(b, null),
            })
            {
                datagrams.AddRange(RawSocket.Dump(buffer.AsSpan(0, encode(buffer)).ToArray()));
            }

            return datagrams;
        });
    }
}
