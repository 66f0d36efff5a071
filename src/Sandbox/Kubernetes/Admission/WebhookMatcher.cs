namespace BranchEni.Sandbox.Kubernetes.Admission;

/// <summary>
/// Whether a webhook is called for a request, as the API server decides it: the rules (operation, group, version,
/// resource with subresource — "pods" is not "pods/status" —, scope), the namespaceSelector (labels of the request's
/// Namespace object; cluster-scoped objects always match) and the objectSelector (labels of the new or the old object).
/// </summary>
internal static class WebhookMatcher
{
    /// <summary>The namespace labels are read (namespaceLabels) only when a namespaceSelector needs them.</summary>
    public static bool Matches(Webhook webhook, AdmissionAttributes request, Func<IReadOnlyDictionary<string, string>> namespaceLabels) =>
        webhook.Rules.Any(r => Matches(r, request))
        && NamespaceMatches(webhook, request, namespaceLabels)
        && ObjectMatches(webhook, request);

    public static bool Matches(WebhookRule rule, AdmissionAttributes request)
    {
        var type = request.Type;
        return (rule.Operations.Contains("*") || rule.Operations.Contains(request.Operation))
            && (rule.ApiGroups.Contains("*") || rule.ApiGroups.Contains(type.Group))
            && (rule.ApiVersions.Contains("*") || rule.ApiVersions.Contains(type.Version))
            && rule.Resources.Any(r => ResourceMatches(r, type.Plural, request.Subresource ?? ""))
            && ScopeMatches(rule.Scope, request);
    }

    /// <summary>"pods" matches pods only, "pods/status" its status, "pods/*" both, "*" every resource, "*/*" everything.</summary>
    private static bool ResourceMatches(string pattern, string resource, string subresource)
    {
        var slash = pattern.IndexOf('/', StringComparison.Ordinal);
        var (res, sub) = slash < 0 ? (pattern, "") : (pattern[..slash], pattern[(slash + 1)..]);
        return (res == "*" || res == resource) && (sub == "*" || sub == subresource);
    }

    /// <summary>A Namespace object is cluster-scoped even though its requests carry its own name as namespace.</summary>
    private static bool ScopeMatches(string scope, AdmissionAttributes request)
    {
        var cluster = !request.Type.Namespaced;
        return scope switch
        {
            "Cluster" => cluster,
            "Namespaced" => !cluster,
            _ => true,
        };
    }

    private static bool NamespaceMatches(Webhook webhook, AdmissionAttributes request, Func<IReadOnlyDictionary<string, string>> namespaceLabels)
    {
        if (webhook.NamespaceSelector is not { Count: > 0 } selector)
        {
            return true;
        }

        if (request.Type == ResourceTypes.Namespaces)
        {
            // The namespace being written is judged by its own labels.
            return LabelSelectors.Matches(selector, Meta.Labels(request.Object ?? request.OldObject!));
        }

        return !request.Type.Namespaced || LabelSelectors.Matches(selector, namespaceLabels());
    }

    private static bool ObjectMatches(Webhook webhook, AdmissionAttributes request)
    {
        if (webhook.ObjectSelector is not { Count: > 0 } selector)
        {
            return true;
        }

        return (request.Object is { } obj && LabelSelectors.Matches(selector, Meta.Labels(obj)))
            || (request.OldObject is { } old && LabelSelectors.Matches(selector, Meta.Labels(old)));
    }
}
