using BranchEni.Netlink.Interop;
using BranchEni.Netlink.Tests.Support;

namespace BranchEni.Netlink.Tests.Protocol;

/// <summary>The socket's answer handling, driven through a fake kernel on a socketpair.</summary>
public sealed class SocketProtocolTests
{
    [Fact]
    public void An_interrupted_dump_is_restarted_and_only_the_complete_answer_is_kept()
    {
        using var kernel = new FakeKernel((n, seq) => n == 0
            ? [FakeKernel.Datagram(FakeKernel.NewLink(seq, 1, "stale", NlmFlags.Multi | NlmFlags.DumpIntr)), FakeKernel.Done(seq, NlmFlags.Multi | NlmFlags.DumpIntr)]
            : [FakeKernel.Datagram(FakeKernel.NewLink(seq, 2, "b"), FakeKernel.NewLink(seq, 3, "c")), FakeKernel.Done(seq)]);

        var links = kernel.Handle.ListLinks();

        Assert.Equal(["b", "c"], links.Select(l => l.Name));
        Assert.Equal(2, kernel.Requests);
    }

    [Fact]
    public void A_dump_interrupted_every_time_gives_up_with_EINTR()
    {
        using var kernel = new FakeKernel((_, seq) =>
            [FakeKernel.Datagram(FakeKernel.NewLink(seq, 1, "a", NlmFlags.Multi | NlmFlags.DumpIntr), FakeKernel.Done(seq, NlmFlags.Multi | NlmFlags.DumpIntr))]);

        var e = Assert.Throws<NetlinkException>(() => kernel.Handle.ListLinks());

        Assert.Equal(Errno.EINTR, e.Errno);
        Assert.Equal("ip -d link show", e.Operation);
        Assert.Equal(10, kernel.Requests);
    }

    [Fact]
    public void Answers_with_another_sequence_number_or_port_id_are_ignored()
    {
        using var kernel = new FakeKernel((_, seq) =>
        [
            FakeKernel.Ack(seq - 1, Errno.EEXIST),                     // a late answer to an earlier request
            FakeKernel.Ack(seq, Errno.EPERM, portId: 9999),            // addressed to another socket
            FakeKernel.Datagram(FakeKernel.Ack(seq + 7, Errno.EBUSY), FakeKernel.Ack(seq)),
        ]);

        kernel.Handle.SetLinkUp(5);

        Assert.Equal(1, kernel.Requests);
    }

    [Fact]
    public void An_error_answer_carries_errno_operation_and_extended_ack_text()
    {
        using var kernel = new FakeKernel((_, seq) => [FakeKernel.Ack(seq, Errno.EEXIST, "VLAN id already in use")]);

        var e = Assert.Throws<NetlinkException>(() => kernel.Handle.AddVlan(new VlanSpec { Name = "vlan.eth.7", ParentIndex = 2, VlanId = 7 }));

        Assert.Equal(Errno.EEXIST, e.Errno);
        Assert.Equal("ip link add link 2 name vlan.eth.7 type vlan id 7", e.Operation);
        Assert.Equal("VLAN id already in use", e.ExtendedAck);
    }

    [Fact]
    public void A_dump_error_in_NLMSG_DONE_surfaces()
    {
        using var kernel = new FakeKernel((_, seq) => [FakeKernel.Done(seq, status: -Errno.EMSGSIZE)]);

        Assert.Equal(Errno.EMSGSIZE, Assert.Throws<NetlinkException>(() => kernel.Handle.ListLinks()).Errno);
    }

    [Fact]
    public void A_large_datagram_is_read_whole_in_one_receive()
    {
        // 28 links with 2 KB aliases make a ~60 KB datagram: more than a dump ever sends, within the buffer.
        var alias = new string('x', 2000);
        using var kernel = new FakeKernel((_, seq) =>
        [
            FakeKernel.Datagram([.. Enumerable.Range(1, 28).Select(i => FakeKernel.NewLink(seq, i, $"l{i}", alias: alias))]),
            FakeKernel.Done(seq),
        ]);

        var links = kernel.Handle.ListLinks();

        Assert.Equal(28, links.Count);
        Assert.All(links, l => Assert.Equal(alias, l.Alias));
    }

    [Fact]
    public void A_datagram_larger_than_the_buffer_is_an_error_not_a_truncated_answer()
    {
        var alias = new string('x', 2000);
        using var kernel = new FakeKernel((_, seq) =>
        [
            FakeKernel.Datagram([.. Enumerable.Range(1, 40).Select(i => FakeKernel.NewLink(seq, i, $"l{i}", alias: alias))]),
            FakeKernel.Done(seq),
        ]);

        var e = Assert.Throws<NetlinkException>(() => kernel.Handle.ListLinks());

        Assert.Equal(Errno.EMSGSIZE, e.Errno);
        Assert.Contains("does not fit", e.ExtendedAck, StringComparison.Ordinal);
    }

    [Fact]
    public void A_kernel_that_never_answers_times_out_instead_of_hanging()
    {
        using var kernel = new FakeKernel((_, _) => [], receiveTimeout: TimeSpan.FromMilliseconds(300));

        var e = Assert.Throws<NetlinkException>(() => kernel.Handle.SetLinkUp(5));

        Assert.Equal(Errno.ETIMEDOUT, e.Errno);
        Assert.Equal("recvfrom(netlink)", e.Operation);
        Assert.Contains("within 0.3 s", e.ExtendedAck, StringComparison.Ordinal);
    }
}
