using BranchEni.Contracts;

namespace BranchEni.Cni.Tests.Contracts;

public sealed class NodeRecordsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("branch-eni-records-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void PodRecordRoundTripsWithTheContractFieldNamesAndOwnerOnlyMode()
    {
        var records = new NodeRecords(_dir);
        var record = new PodRecord
        {
            EniId = "eni-0abc", IfAddress = "0e:ee:16:bd:41:31", PrivateIp = "192.168.19.148", Ipv6Addr = "", VlanId = 3,
            SubnetCidr = "192.168.0.0/19", SubnetV6Cidr = "", AssociationId = "trunk-assoc-1",
            PodNamespace = "default", PodName = "green", PodUid = "0b8c9d7e-1111-2222-3333-444455556666",
        };

        records.WritePod(record);

        var path = records.PodPath(record.PodUid);
        var json = File.ReadAllText(path);
        foreach (var name in new[] { "eniId", "ifAddress", "privateIp", "ipv6Addr", "vlanId", "subnetCidr", "subnetV6Cidr", "associationID", "podNamespace", "podName", "podUid" })
        {
            Assert.Contains($"\"{name}\":", json, StringComparison.Ordinal);
        }

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal(record, records.ReadPod(record.PodUid));
        Assert.Single(Directory.GetFiles(records.PodsDirectory)); // no temp file left behind
        records.DeletePod(record.PodUid);
        Assert.Null(records.ReadPod(record.PodUid));
        records.DeletePod(record.PodUid); // already gone is fine
    }

    [Fact]
    public void TrunkRecordRoundTrips()
    {
        var records = new NodeRecords(_dir);
        records.WriteTrunk(new TrunkRecord("eni-0trunk", "02:aa:bb:cc:dd:ee", "eth1"));

        Assert.Equal(new TrunkRecord("eni-0trunk", "02:aa:bb:cc:dd:ee", "eth1"), records.ReadTrunk());
        Assert.Contains("\"macAddress\":\"02:aa:bb:cc:dd:ee\"", File.ReadAllText(records.TrunkPath), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("../../etc/passwd")]
    [InlineData("")]
    [InlineData("abc/def")]
    public void UidsThatCouldEscapeThePodsDirectoryAreRefused(string uid)
    {
        Assert.Throws<ArgumentException>(() => new NodeRecords(_dir).PodPath(uid));
    }

    [Fact]
    public void ACorruptRecordIsReportedNotTakenForAbsent()
    {
        var records = new NodeRecords(_dir);
        Directory.CreateDirectory(records.PodsDirectory);
        File.WriteAllText(records.PodPath("abcd"), "{ truncated");

        Assert.Throws<InvalidDataException>(() => records.ReadPod("abcd"));
        var listed = Assert.Single(records.ListPods());
        Assert.Equal("abcd", listed.PodUid);
        Assert.NotNull(listed.Error);
    }
}
