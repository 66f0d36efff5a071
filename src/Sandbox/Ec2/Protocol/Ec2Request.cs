using System.Globalization;
using BranchEni.Sandbox.Ec2.Model;

namespace BranchEni.Sandbox.Ec2.Protocol;

/// <summary>A filter of a Describe call: Filter.N.Name and its Filter.N.Value.M values.</summary>
internal sealed record Ec2Filter(string Name, IReadOnlyList<string> Values);

/// <summary>
/// The parameters of one Query API call (the form body, or the query string for GETs). Lists use EC2's
/// flattened encoding: <c>Prefix.1</c>, <c>Prefix.2</c>, … and structures <c>Prefix.N.Member</c>.
/// </summary>
internal sealed class Ec2Request(string action, IReadOnlyDictionary<string, string> parameters)
{
    public string Action { get; } = action;
    public IReadOnlyDictionary<string, string> Parameters { get; } = parameters;

    public string? Optional(string name) => Parameters.TryGetValue(name, out var v) ? v : null;

    public string Required(string name) =>
        Parameters.TryGetValue(name, out var v) && v.Length > 0 ? v : throw Ec2Exception.Missing(name);

    public int? Int(string name)
    {
        var text = Optional(name);
        if (text is null)
        {
            return null;
        }

        return int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw Ec2Exception.InvalidValue($"Value ({text}) for parameter {name} is invalid. Expected an integer.");
    }

    public bool? Bool(string name)
    {
        var text = Optional(name);
        return text switch
        {
            null => null,
            _ when text.Equals("true", StringComparison.OrdinalIgnoreCase) => true,
            _ when text.Equals("false", StringComparison.OrdinalIgnoreCase) => false,
            _ => throw Ec2Exception.InvalidValue($"Value ({text}) for parameter {name} is invalid. Expected a boolean."),
        };
    }

    /// <summary>Values of <c>prefix.1</c>, <c>prefix.2</c>, … in index order.</summary>
    public List<string> List(string prefix) =>
        Indexes(prefix).Select(i => Optional($"{prefix}.{i}")).OfType<string>().ToList();

    public List<Ec2Filter> Filters()
    {
        var filters = new List<Ec2Filter>();
        foreach (var i in Indexes("Filter"))
        {
            var name = Optional($"Filter.{i}.Name") ?? throw Ec2Exception.Missing($"Filter.{i}.Name");
            filters.Add(new Ec2Filter(name, List($"Filter.{i}.Value")));
        }

        return filters;
    }

    /// <summary>Tags encoded as <c>prefix.N.Key</c> / <c>prefix.N.Value</c>; a missing value is the empty string.</summary>
    public List<KeyValuePair<string, string>> Tags(string prefix) =>
        Indexes(prefix)
            .Select(i => KeyValuePair.Create(
                Optional($"{prefix}.{i}.Key") ?? throw Ec2Exception.Missing($"{prefix}.{i}.Key"),
                Optional($"{prefix}.{i}.Value") ?? ""))
            .ToList();

    /// <summary>Tags where the value is optional (DeleteTags: a key alone removes the tag whatever its value).</summary>
    public List<KeyValuePair<string, string?>> TagKeys(string prefix) =>
        Indexes(prefix)
            .Select(i => KeyValuePair.Create(
                Optional($"{prefix}.{i}.Key") ?? throw Ec2Exception.Missing($"{prefix}.{i}.Key"),
                Optional($"{prefix}.{i}.Value")))
            .ToList();

    /// <summary>The tags of every TagSpecification.N for the given resource type; other types are refused.</summary>
    public List<KeyValuePair<string, string>> TagSpecifications(string resourceType)
    {
        var tags = new List<KeyValuePair<string, string>>();
        foreach (var i in Indexes("TagSpecification"))
        {
            var type = Optional($"TagSpecification.{i}.ResourceType");
            if (type != resourceType)
            {
                throw Ec2Exception.InvalidValue($"'{type}' is not a valid taggable resource type for this operation.");
            }

            tags.AddRange(Tags($"TagSpecification.{i}.Tag"));
        }

        return tags;
    }

    /// <summary>The distinct N of keys <c>prefix.N</c> or <c>prefix.N.…</c>, ascending.</summary>
    private SortedSet<int> Indexes(string prefix)
    {
        var indexes = new SortedSet<int>();
        var start = prefix + ".";
        foreach (var key in Parameters.Keys)
        {
            if (!key.StartsWith(start, StringComparison.Ordinal))
            {
                continue;
            }

            var rest = key.AsSpan(start.Length);
            var dot = rest.IndexOf('.');
            var digits = dot < 0 ? rest : rest[..dot];
            if (int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
            {
                indexes.Add(n);
            }
        }

        return indexes;
    }
}
