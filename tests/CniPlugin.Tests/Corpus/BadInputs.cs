namespace BranchEni.Cni.Tests.Corpus;

/// <summary>
/// The corpus: every field of config, environment, CNI_ARGS, node record, annotation and prevResult spoiled in the
/// ways that matter (missing, wrong type, out of range, forged). {UID}, {NAME} are filled per case.
/// </summary>
public static class BadInputs
{
    private const string GoodElement =
        "\"eniId\":\"eni-0f1\",\"ifAddress\":\"0e:ee:16:bd:41:31\",\"privateIp\":\"10.77.0.20\",\"ipv6Addr\":\"\",\"vlanId\":7,"
        + "\"subnetCidr\":\"10.77.0.0/24\",\"subnetV6Cidr\":\"\",\"associationID\":\"trunk-assoc-1\"";

    private static string Element(string field, string? json)
    {
        var parts = GoodElement.Split(",\"").Select((p, i) => i == 0 ? p : "\"" + p).ToList();
        parts.RemoveAll(p => p.StartsWith($"\"{field}\":", StringComparison.Ordinal));
        if (json is not null)
        {
            parts.Add($"\"{field}\":{json}");
        }

        return string.Join(",", parts);
    }

    private static string Record(string element) =>
        "{" + element + ",\"podNamespace\":\"default\",\"podName\":\"{NAME}\",\"podUid\":\"{UID}\"}";

    private static string Pod(string? annotation, string uid = "{UID}", bool requests = false)
    {
        var ann = annotation is null ? "{}" : "{\"vpc.amazonaws.com/pod-eni\":" + System.Text.Json.JsonSerializer.Serialize(annotation) + "}";
        var res = requests ? "{\"requests\":{\"vpc.amazonaws.com/pod-eni\":\"1\"},\"limits\":{\"vpc.amazonaws.com/pod-eni\":\"1\"}}" : "{}";
        return "{\"metadata\":{\"name\":\"{NAME}\",\"namespace\":\"default\",\"uid\":\"" + uid + "\",\"annotations\":" + ann
            + "},\"spec\":{\"containers\":[{\"name\":\"app\",\"resources\":" + res + "}]}}";
    }

    /// <summary>Element edits that make a branch ENI invalid, with the field the message must name.</summary>
    private static readonly (string Field, string? Json, string Label)[] ElementSpoils =
    [
        ("eniId", null, "missing"), ("eniId", "\"\"", "empty"), ("eniId", "\"eni-XYZ\"", "not hex"), ("eniId", "\"vol-0f1\"", "not an eni"),
        ("ifAddress", null, "missing"), ("ifAddress", "\"0e:ee:16:bd:41\"", "five octets"), ("ifAddress", "\"01:00:5e:00:00:01\"", "multicast"),
        ("ifAddress", "\"00:00:00:00:00:00\"", "zero"), ("ifAddress", "\"0e-ee-16-bd-41-31\"", "dashes"), ("ifAddress", "\"0e:ee:16:bd:41:3g\"", "not hex"),
        ("vlanId", null, "missing"), ("vlanId", "0", "zero"), ("vlanId", "4095", "4095"), ("vlanId", "-7", "negative"), ("vlanId", "70000", "too big"),
        ("privateIp", null, "missing"), ("privateIp", "\"10.78.0.20\"", "outside subnet"), ("privateIp", "\"10.77.0.300\"", "not an address"),
        ("privateIp", "\"fd00::20\"", "ipv6"), ("privateIp", "\"10.77.0.20/32\"", "with prefix"),
        ("subnetCidr", null, "missing"), ("subnetCidr", "\"10.77.0.5/24\"", "host bits"), ("subnetCidr", "\"10.77.0.20/31\"", "no room"),
        ("subnetCidr", "\"10.77.0.0\"", "no prefix"), ("ipv6Addr", "\"fd00::20\"", "v6 without subnet"),
    ];

    /// <summary>An IPv6 address without its subnet is refused for the missing subnet.</summary>
    private static string NamedBy(string field) => field == "ipv6Addr" ? "subnetV6Cidr" : field;

    public static IEnumerable<BadInput> All()
    {
        foreach (var c in ConfigCases()) yield return c;
        foreach (var c in EnvironmentCases()) yield return c;
        foreach (var c in ArgsCases()) yield return c;
        foreach (var c in RecordCases()) yield return c;
        foreach (var c in AnnotationCases()) yield return c;
        foreach (var c in PrevResultCases()) yield return c;
    }

    private static IEnumerable<BadInput> ConfigCases()
    {
        BadInput C(string name, int code, string field, string? json, string? names = null) =>
            new(name, code) { Config = new Dictionary<string, string?> { [field] = json }, Names = names ?? field };
        yield return new BadInput("config not json", 6) { RawConfig = "{\"cniVersion\":" };
        yield return new BadInput("config is an array", 6) { RawConfig = "[]" };
        yield return new BadInput("config is null", 6) { RawConfig = "null" };
        yield return new BadInput("config empty", 6) { RawConfig = "", Names = "decode" };
        yield return C("cniVersion missing", 7, "cniVersion", null);
        yield return C("cniVersion 0.2.0", 1, "cniVersion", "\"0.2.0\"");
        yield return C("cniVersion 2.0.0", 1, "cniVersion", "\"2.0.0\"");
        yield return C("cniVersion number", 6, "cniVersion", "1", "cniVersion");
        yield return C("name missing", 7, "name", null);
        yield return C("name blank", 7, "name", "\"  \"");
        yield return C("type other", 7, "type", "\"ptp\"");
        yield return C("type missing", 7, "type", null);
        yield return C("mtu string", 6, "mtu", "\"1500\"");
        yield return C("mtu too small", 7, "mtu", "100");
        yield return C("mtu too big", 7, "mtu", "65536");
        yield return C("mtu fraction", 6, "mtu", "1500.5");
        yield return C("enforcingMode capitalised", 7, "enforcingMode", "\"Strict\"");
        yield return C("enforcingMode unknown", 7, "enforcingMode", "\"lenient\"");
        yield return C("vethPrefix too long", 7, "vethPrefix", "\"vlanx\"");
        yield return C("vethPrefix empty", 7, "vethPrefix", "\"\"");
        yield return C("vethPrefix punctuation", 7, "vethPrefix", "\"v/a\"");
        yield return C("trunkInterface too long", 7, "trunkInterface", "\"trunkinterface00\"");
        yield return C("trunkInterface slash", 7, "trunkInterface", "\"eth/0\"");
        yield return C("trunkInterface absent on node", 103, "trunkInterface", "\"nosuch0\"");
        yield return C("stateDir relative", 7, "stateDir", "\"run/branch-eni\"");
        yield return C("stateDir dotdot", 7, "stateDir", "\"/run/../etc\"");
        yield return C("logFile relative", 7, "logFile", "\"plugin.log\"");
        yield return C("logLevel unknown", 7, "logLevel", "\"chatty\"");
        yield return C("annotationWaitSeconds negative", 7, "annotationWaitSeconds", "-1");
        yield return C("annotationWaitSeconds huge", 7, "annotationWaitSeconds", "100000");
        yield return C("kubeconfig relative", 7, "kubeconfig", "\"kubeconfig\"");
        yield return C("delegate not object", 7, "delegate", "\"ptp\"");
        yield return C("delegate without type", 7, "delegate", "{\"ipam\":{}}", "delegate.type");
        yield return C("delegate type path", 7, "delegate", "{\"type\":\"../../bin/sh\"}", "delegate.type");
        yield return C("delegate is us", 7, "delegate", "{\"type\":\"branch-eni\"}", "delegate.type");
        yield return C("delegate version number", 7, "delegate", "{\"type\":\"ptp\",\"cniVersion\":1}", "delegate.cniVersion");
    }

    private static IEnumerable<BadInput> EnvironmentCases()
    {
        BadInput E(string name, string variable, string? value) =>
            new(name, 4) { Env = new Dictionary<string, string?> { [variable] = value }, Names = variable };
        yield return E("command unknown", "CNI_COMMAND", "FROB");
        yield return E("containerid missing", "CNI_CONTAINERID", null);
        yield return E("containerid leading dash", "CNI_CONTAINERID", "-abc");
        yield return E("containerid slash", "CNI_CONTAINERID", "ab/c");
        yield return E("containerid space", "CNI_CONTAINERID", "ab c");
        yield return E("ifname missing", "CNI_IFNAME", null);
        yield return E("ifname too long", "CNI_IFNAME", "eth0123456789012");
        yield return E("ifname dot", "CNI_IFNAME", ".");
        yield return E("ifname colon", "CNI_IFNAME", "eth0:1");
        yield return E("ifname space", "CNI_IFNAME", "eth 0");
        yield return E("netns missing", "CNI_NETNS", null);
        yield return E("netns relative", "CNI_NETNS", "netns/x");
        yield return E("netns absent", "CNI_NETNS", "/run/netns/branch-eni-no-such-ns");
        yield return E("path missing", "CNI_PATH", null);
    }

    private static IEnumerable<BadInput> ArgsCases()
    {
        BadInput A(string name, string args, string names) => new(name, 4) { Args = args, Names = names };
        yield return A("args unknown key", "K8S_POD_NAMESPACE=default;K8S_POD_NAME={NAME};K8S_POD_UID={UID};COLOUR=red", "COLOUR");
        yield return A("args no equals", "K8S_POD_NAMESPACE", "KEY=VALUE");
        yield return A("args empty key", "=x", "KEY=VALUE");
        yield return A("args namespace upper", "K8S_POD_NAMESPACE=Default;K8S_POD_NAME={NAME}", "K8S_POD_NAMESPACE");
        yield return A("args namespace dot", "K8S_POD_NAMESPACE=a.b;K8S_POD_NAME={NAME}", "K8S_POD_NAMESPACE");
        yield return A("args namespace long", "K8S_POD_NAMESPACE=" + new string('a', 64) + ";K8S_POD_NAME={NAME}", "K8S_POD_NAMESPACE");
        yield return A("args name underscore", "K8S_POD_NAMESPACE=default;K8S_POD_NAME=web_0", "K8S_POD_NAME");
        yield return A("args name trailing dash", "K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-", "K8S_POD_NAME");
        yield return A("args name empty", "K8S_POD_NAMESPACE=default;K8S_POD_NAME=", "K8S_POD_NAME");
        yield return A("args uid traversal", "K8S_POD_NAMESPACE=default;K8S_POD_NAME={NAME};K8S_POD_UID=../../etc/passwd", "K8S_POD_UID");
        yield return A("args uid too long", "K8S_POD_NAMESPACE=default;K8S_POD_NAME={NAME};K8S_POD_UID=" + new string('a', 65), "K8S_POD_UID");
        yield return A("args duplicate", "K8S_POD_NAMESPACE=default;K8S_POD_NAMESPACE=other", "twice");
    }

    private static IEnumerable<BadInput> RecordCases()
    {
        foreach (var (field, json, label) in ElementSpoils)
        {
            yield return new BadInput($"record {field} {label}", 102) { Record = Record(Element(field, json)), Names = NamedBy(field) };
        }

        yield return new BadInput("record vlanId string", 102) { Record = Record(Element("vlanId", "\"7\"")) };
        // metadataAccess is exact: a typo must neither open the metadata service nor close it without saying so.
        foreach (var (json, label) in new[] { ("\"denied\"", "lower case"), ("\"\"", "empty"), ("\"Deny\"", "misspelt"), ("\"true\"", "a label value"), ("false", "a bool") })
        {
            yield return new BadInput($"record metadataAccess {label}", 102) { Record = Record(Element("metadataAccess", json)), Names = "metadataAccess" };
        }

        yield return new BadInput("record not json", 102) { Record = "{\"eniId\":", Names = "unreadable" };
        yield return new BadInput("record null", 102) { Record = "null", Names = "unreadable" };
        yield return new BadInput("record other uid", 102) { Record = Record(GoodElement).Replace("\"podUid\":\"{UID}\"", "\"podUid\":\"00000000-0000-0000-0000-000000000000\"", StringComparison.Ordinal), Names = "podUid" };
        yield return new BadInput("record other pod name", 102) { Record = Record(GoodElement).Replace("\"podName\":\"{NAME}\"", "\"podName\":\"someone-else\"", StringComparison.Ordinal), Names = "podName" };
        yield return new BadInput("record other namespace", 102) { Record = Record(GoodElement).Replace("\"podNamespace\":\"default\"", "\"podNamespace\":\"kube-system\"", StringComparison.Ordinal), Names = "podNamespace" };
    }

    private static IEnumerable<BadInput> AnnotationCases()
    {
        foreach (var (field, json, label) in ElementSpoils)
        {
            yield return new BadInput($"annotation {field} {label}", 102) { Api = true, ApiPod = Pod("[{" + Element(field, json) + "}]"), Names = NamedBy(field) };
        }

        yield return new BadInput("annotation not json", 102) { Api = true, ApiPod = Pod("[{\"eniId\""), Names = "vpc.amazonaws.com/pod-eni" };
        yield return new BadInput("annotation empty array", 102) { Api = true, ApiPod = Pod("[]"), Names = "vpc.amazonaws.com/pod-eni" };
        yield return new BadInput("annotation object", 102) { Api = true, ApiPod = Pod("{" + GoodElement + "}"), Names = "vpc.amazonaws.com/pod-eni" };
        yield return new BadInput("annotation field case", 102) { Api = true, ApiPod = Pod("[{" + GoodElement.Replace("vlanId", "VlanId", StringComparison.Ordinal) + "}]"), Names = "vlanId" };
        yield return new BadInput("annotation vlanId string", 102) { Api = true, ApiPod = Pod("[{" + Element("vlanId", "\"7\"") + "}]") };
        yield return new BadInput("api pod uid differs", 102) { Api = true, ApiPod = Pod("[{" + GoodElement + "}]", uid: "00000000-0000-0000-0000-0000000000aa"), Names = "K8S_POD_UID" };
        yield return new BadInput("annotation claims a recorded vlan", 102)
        {
            Api = true, ApiPod = Pod("[{" + Element("vlanId", "9") + "}]"), Names = "VLAN 9",
            Record = "OTHER:" + Record(Element("vlanId", "9")),
        };
        yield return new BadInput("annotation claims a recorded eni", 102)
        {
            Api = true, ApiPod = Pod("[{" + Element("eniId", "\"eni-0abc9\"") + "}]"), Names = "eni-0abc9",
            Record = "OTHER:" + Record(Element("eniId", "\"eni-0abc9\"")),
        };
        yield return new BadInput("annotation never comes", 11) { Api = true, ApiPod = Pod(null, requests: true), Names = "after 1 s" };
        yield return new BadInput("api pod missing", 3) { Api = true, ApiPod = null, Names = "does not exist" };
    }

    private static IEnumerable<BadInput> PrevResultCases()
    {
        BadInput P(string name, int code, string prev, string names, string command = "DEL") =>
            new(name, code) { Command = command, Config = new Dictionary<string, string?> { ["prevResult"] = prev }, Names = names };
        foreach (var command in new[] { "DEL", "CHECK" })
        {
            yield return P($"{command} prevResult string", 7, "\"x\"", "prevResult", command);
            yield return P($"{command} prevResult interfaces not array", 6, "{\"interfaces\":{}}", "interfaces", command);
            yield return P($"{command} prevResult name too long", 7, "{\"interfaces\":[{\"name\":\"vlan0123456789abc\"}]}", "prevResult.interfaces[0].name", command);
            yield return P($"{command} prevResult name slash", 7, "{\"interfaces\":[{\"name\":\"a/b\"}]}", "prevResult.interfaces[0].name", command);
            yield return P($"{command} prevResult mac bad", 7, "{\"interfaces\":[{\"name\":\"eth0\",\"mac\":\"zz\"}]}", "prevResult.interfaces[0].mac", command);
            yield return P($"{command} prevResult sandbox relative", 7, "{\"interfaces\":[{\"name\":\"eth0\",\"sandbox\":\"ns\"}]}", "prevResult.interfaces[0].sandbox", command);
            yield return P($"{command} prevResult address no prefix", 7, "{\"ips\":[{\"address\":\"10.77.0.20\"}]}", "prevResult.ips[0].address", command);
            yield return P($"{command} prevResult address junk", 7, "{\"ips\":[{\"address\":\"ten/32\"}]}", "prevResult.ips[0].address", command);
            yield return P($"{command} prevResult gateway junk", 7, "{\"ips\":[{\"address\":\"10.77.0.20/32\",\"gateway\":\"gw\"}]}", "prevResult.ips[0].gateway", command);
            yield return P($"{command} prevResult interface index", 7, "{\"interfaces\":[{\"name\":\"eth0\"}],\"ips\":[{\"address\":\"10.77.0.20/32\",\"interface\":3}]}", "prevResult.ips[0].interface", command);
            yield return P($"{command} prevResult interface type", 6, "{\"ips\":[{\"address\":\"10.77.0.20/32\",\"interface\":\"1\"}]}", "interface", command);
        }

        yield return new BadInput("CHECK without prevResult", 7) { Command = "CHECK", Names = "prevResult" };
        yield return new BadInput("CHECK in 0.3.1", 1) { Command = "CHECK", Config = new Dictionary<string, string?> { ["cniVersion"] = "\"0.3.1\"" }, Names = "CHECK" };
        yield return new BadInput("STATUS in 1.0.0", 1) { Command = "STATUS", Names = "STATUS" };
        yield return new BadInput("GC in 1.0.0", 1) { Command = "GC", Names = "GC" };
        yield return new BadInput("GC without attachments", 7) { Command = "GC", Config = new Dictionary<string, string?> { ["cniVersion"] = "\"1.1.0\"" }, Names = "valid-attachments" };
        yield return new BadInput("GC attachment without id", 7)
        {
            Command = "GC", Config = new Dictionary<string, string?> { ["cniVersion"] = "\"1.1.0\"", ["cni.dev/valid-attachments"] = "[{\"ifname\":\"eth0\"}]" },
            Names = "containerID",
        };
    }
}
