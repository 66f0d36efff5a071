using System.Text;
using BranchEni.Sandbox.Ec2.Model;

namespace BranchEni.Sandbox.Ec2.Protocol;

/// <summary>
/// Describe filters as EC2 evaluates them: different filters AND, the values of one filter OR, values may use
/// the wildcards * and ?, and tag:KEY / tag-key / tag-value work on every taggable resource. An unknown filter
/// name is an error, not a silent match-all.
/// </summary>
internal sealed class FilterSet<T>(
    IReadOnlyDictionary<string, Func<T, IEnumerable<string?>>> fields,
    Func<T, IReadOnlyDictionary<string, string>>? tags = null)
{
    public Func<T, bool> Compile(IReadOnlyList<Ec2Filter> filters)
    {
        var tests = filters.Select(Compile).ToList();
        return item => tests.All(t => t(item));
    }

    private Func<T, bool> Compile(Ec2Filter filter)
    {
        if (filter.Values.Count == 0)
        {
            throw Ec2Exception.InvalidValue($"The filter '{filter.Name}' has no values");
        }

        Func<T, IEnumerable<string?>> values = filter.Name switch
        {
            _ when fields.TryGetValue(filter.Name, out var field) => field,
            _ when tags is not null && filter.Name.StartsWith("tag:", StringComparison.Ordinal) =>
                item => tags(item).TryGetValue(filter.Name[4..], out var v) ? [v] : [],
            "tag-key" when tags is not null => item => tags(item).Keys,
            "tag-value" when tags is not null => item => tags(item).Values,
            _ => throw Ec2Exception.InvalidValue($"The filter '{filter.Name}' is invalid"),
        };
        return item => values(item).Any(v => v is not null && filter.Values.Any(pattern => Glob(pattern, v)));
    }

    /// <summary>EC2 wildcard match: * any run, ? one character, \ escapes.</summary>
    internal static bool Glob(string pattern, string value)
    {
        if (!pattern.Contains('*', StringComparison.Ordinal) && !pattern.Contains('?', StringComparison.Ordinal))
        {
            return pattern == value;
        }

        var regex = new StringBuilder("^");
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            regex.Append(c switch
            {
                '*' => ".*",
                '?' => ".",
                '\\' when i + 1 < pattern.Length => System.Text.RegularExpressions.Regex.Escape(pattern[++i].ToString()),
                _ => System.Text.RegularExpressions.Regex.Escape(c.ToString()),
            });
        }

        return System.Text.RegularExpressions.Regex.IsMatch(value, regex.Append('$').ToString(),
            System.Text.RegularExpressions.RegexOptions.Singleline);
    }
}

/// <summary>MaxResults / NextToken paging over a list sorted by id; the token names the first id of the next page.</summary>
internal static class Paging
{
    public static (List<T> Page, string? NextToken) Page<T>(
        IEnumerable<T> sorted, Func<T, string> key, int? maxResults, string? nextToken, int min, int max)
    {
        if (maxResults is { } m && (m < min || m > max))
        {
            throw Ec2Exception.InvalidValue($"Value ({m}) for parameter maxResults is invalid. Expecting a value between {min} and {max}.");
        }

        var items = sorted;
        // SDKs send an empty NextToken for "first page"; EC2 treats it as absent.
        if (!string.IsNullOrEmpty(nextToken))
        {
            var after = Decode(nextToken);
            items = items.Where(i => string.CompareOrdinal(key(i), after) >= 0);
        }

        var list = items.ToList();
        if (maxResults is not { } size || list.Count <= size)
        {
            return (list, null);
        }

        return (list.Take(size).ToList(), Encode(key(list[size])));
    }

    private static string Encode(string id) => Convert.ToBase64String(Encoding.UTF8.GetBytes("v1:" + id));

    private static string Decode(string token)
    {
        try
        {
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(token));
            if (text.StartsWith("v1:", StringComparison.Ordinal))
            {
                return text[3..];
            }
        }
        catch (FormatException)
        {
            // Falls through to EC2's answer for a token it did not issue.
        }

        throw new Ec2Exception("InvalidNextToken", $"The token '{token}' is invalid.");
    }
}
