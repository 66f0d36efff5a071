using System.Globalization;
using System.Xml.Linq;

namespace BranchEni.Sandbox.Ec2.Protocol;

/// <summary>Builds EC2 Query API answers: elements in EC2's 2016-11-15 namespace, list items as &lt;item&gt;.</summary>
internal static class Ec2Xml
{
    public static readonly XNamespace Ns = "http://ec2.amazonaws.com/doc/2016-11-15/";

    /// <summary>An element; null content is dropped, so optional fields are simply absent as in EC2's answers.</summary>
    public static XElement E(string name, params object?[] content) => new(Ns + name, content);

    /// <summary>An optional element: absent when the value is null (an empty element would read as "" in SDKs).</summary>
    public static XElement? Opt(string name, string? value) => value is null ? null : new XElement(Ns + name, value);

    /// <summary>A list element with one &lt;item&gt; per entry.</summary>
    public static XElement Set<T>(string name, IEnumerable<T> items, Func<T, object?[]> item) =>
        new(Ns + name, items.Select(i => new XElement(Ns + "item", item(i))));

    public static XElement TagSet(IEnumerable<KeyValuePair<string, string>> tags) =>
        Set("tagSet", tags, t => [E("key", t.Key), E("value", t.Value)]);

    public static string Bool(bool value) => value ? "true" : "false";

    public static string Int(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>EC2's timestamp format: ISO 8601, UTC, milliseconds.</summary>
    public static string Time(DateTimeOffset value) =>
        value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    public static XDocument Response(string action, string requestId, params object?[] content) =>
        new(new XElement(Ns + (action + "Response"), E("requestId", requestId), content));

    /// <summary>EC2's error document; it has no namespace and spells RequestID in capitals.</summary>
    public static XDocument Error(string code, string message, string requestId) =>
        new(new XElement("Response",
            new XElement("Errors", new XElement("Error", new XElement("Code", code), new XElement("Message", message))),
            new XElement("RequestID", requestId)));
}
