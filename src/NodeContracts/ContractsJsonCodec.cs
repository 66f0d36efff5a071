using System.Text.Json;

namespace BranchEni.Contracts;

/// <summary>
/// Reads the node-local records without building <see cref="ContractsJsonContext"/>'s metadata (the CNI reads one or
/// two per call; why: <see cref="JsonFields"/>). Field for field what the context reads; tests hold the two equal.
/// Writing stays with the context: only the long-running agent writes records.
/// </summary>
internal static class ContractsJsonCodec
{
    /// <summary>A `pods/&lt;uid&gt;.json` record; null for a file holding JSON null.</summary>
    public static PodRecord? ReadPod(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        if (!JsonFields.Begin(ref reader))
        {
            return null;
        }

        string? eniId = null, ifAddress = null, privateIp = null, ipv6Addr = null, subnetCidr = null, subnetV6Cidr = null;
        string? associationId = null, podNamespace = null, podName = null, podUid = null, metadataAccess = null;
        int? vlanId = null;
        while (JsonFields.NextProperty(ref reader))
        {
            switch (reader.GetString())
            {
                case "eniId": eniId = JsonFields.String(ref reader, "$", "eniId"); break;
                case "ifAddress": ifAddress = JsonFields.String(ref reader, "$", "ifAddress"); break;
                case "privateIp": privateIp = JsonFields.String(ref reader, "$", "privateIp"); break;
                case "ipv6Addr": ipv6Addr = JsonFields.String(ref reader, "$", "ipv6Addr"); break;
                case "vlanId": vlanId = JsonFields.Int(ref reader, "$", "vlanId"); break;
                case "subnetCidr": subnetCidr = JsonFields.String(ref reader, "$", "subnetCidr"); break;
                case "subnetV6Cidr": subnetV6Cidr = JsonFields.String(ref reader, "$", "subnetV6Cidr"); break;
                case "associationID": associationId = JsonFields.String(ref reader, "$", "associationID"); break;
                case "podNamespace": podNamespace = JsonFields.String(ref reader, "$", "podNamespace"); break;
                case "podName": podName = JsonFields.String(ref reader, "$", "podName"); break;
                case "podUid": podUid = JsonFields.String(ref reader, "$", "podUid"); break;
                case "metadataAccess": metadataAccess = JsonFields.String(ref reader, "$", "metadataAccess"); break;
                default: JsonFields.Skip(ref reader); break;
            }
        }

        JsonFields.End(ref reader);
        return new PodRecord
        {
            EniId = eniId, IfAddress = ifAddress, PrivateIp = privateIp, Ipv6Addr = ipv6Addr, VlanId = vlanId,
            SubnetCidr = subnetCidr, SubnetV6Cidr = subnetV6Cidr, AssociationId = associationId,
            PodNamespace = podNamespace, PodName = podName, PodUid = podUid, MetadataAccess = metadataAccess,
        };
    }

    /// <summary>A `decisions/&lt;uid&gt;.json` record; null for a file holding JSON null.</summary>
    public static PodDecision? ReadDecision(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        if (!JsonFields.Begin(ref reader))
        {
            return null;
        }

        string? podUid = null, podNamespace = null, podName = null, reason = null;
        bool? branch = null;
        while (JsonFields.NextProperty(ref reader))
        {
            switch (reader.GetString())
            {
                case "podUid": podUid = JsonFields.String(ref reader, "$", "podUid"); break;
                case "podNamespace": podNamespace = JsonFields.String(ref reader, "$", "podNamespace"); break;
                case "podName": podName = JsonFields.String(ref reader, "$", "podName"); break;
                case "branch": branch = JsonFields.Bool(ref reader, "$", "branch"); break;
                case "reason": reason = JsonFields.String(ref reader, "$", "reason"); break;
                default: JsonFields.Skip(ref reader); break;
            }
        }

        JsonFields.End(ref reader);
        return new PodDecision(podUid, podNamespace, podName, branch, reason);
    }

    /// <summary>The `trunk.json` record; null for a file holding JSON null. Missing fields are null, as the context
    /// leaves them (the reader checks them).</summary>
    public static TrunkRecord? ReadTrunk(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        if (!JsonFields.Begin(ref reader))
        {
            return null;
        }

        string? eniId = null, macAddress = null, linkName = null;
        while (JsonFields.NextProperty(ref reader))
        {
            switch (reader.GetString())
            {
                case "eniId": eniId = JsonFields.String(ref reader, "$", "eniId"); break;
                case "macAddress": macAddress = JsonFields.String(ref reader, "$", "macAddress"); break;
                case "linkName": linkName = JsonFields.String(ref reader, "$", "linkName"); break;
                default: JsonFields.Skip(ref reader); break;
            }
        }

        JsonFields.End(ref reader);
        return new TrunkRecord(eniId!, macAddress!, linkName);
    }
}
