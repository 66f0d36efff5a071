using System.Security.Cryptography;

namespace BranchEni.Sandbox.Hosting;

/// <summary>
/// Who a request to the sandbox's API server is: the kubeconfig context that carries the token, the user name, uid and
/// groups the API server would take from that credential (and hand to admission webhooks as userInfo), and the token.
/// </summary>
public sealed record SandboxIdentity(string Context, string UserName, string? Uid, IReadOnlyList<string> Groups, string Token);

/// <summary>
/// The three identities the sandbox's kubeconfig offers, each with its own bearer token, fresh for every sandbox so a
/// test proves the token (not a constant) decided who it was: <c>admin</c> (the current context, system:masters),
/// <c>agent</c> (the node agent's service account kube-system/branch-eni) and <c>user</c> (an ordinary user).
/// </summary>
public sealed class SandboxIdentities
{
    public const string AdminContext = "admin";
    public const string AgentContext = "agent";
    public const string UserContext = "user";

    internal SandboxIdentities()
    {
        Admin = new SandboxIdentity(AdminContext, "kubernetes-admin", null, ["system:masters", "system:authenticated"], NewToken());
        Agent = new SandboxIdentity(AgentContext, "system:serviceaccount:kube-system:branch-eni", Guid.NewGuid().ToString(),
            ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"], NewToken());
        User = new SandboxIdentity(UserContext, "jane", null, ["system:authenticated"], NewToken());
        All = [Admin, Agent, User];
    }

    public SandboxIdentity Admin { get; }
    public SandboxIdentity Agent { get; }
    public SandboxIdentity User { get; }

    /// <summary>In kubeconfig order; the first is the current context.</summary>
    public IReadOnlyList<SandboxIdentity> All { get; }

    /// <summary>The identity of a kubeconfig context: "admin", "agent" or "user".</summary>
    public SandboxIdentity this[string context] =>
        All.FirstOrDefault(i => i.Context == context) ?? throw new ArgumentException($"the sandbox has no context '{context}' (admin, agent, user)", nameof(context));

    /// <summary>
    /// Who a request is. Impersonation headers first (Impersonate-User, -Group, -Uid), as the API server honours them:
    /// kubectl does not send a bearer token over plain http, so each non-admin context also names its identity with
    /// as/as-groups/as-uid, which kubectl sends as those headers. Then the bearer token. No token, or a token the
    /// sandbox did not issue, is admin: the sandbox listens on loopback only, and in-process tests and hand-written
    /// kubeconfigs (tests/Packaging.Tests) call it without one of its tokens; a real API server would answer 401.
    /// Nothing is authorized (no RBAC): any caller may impersonate.
    /// </summary>
    internal SandboxIdentity Resolve(string? authorization, string? impersonateUser, IReadOnlyList<string> impersonateGroups, string? impersonateUid)
    {
        if (impersonateUser is { Length: > 0 })
        {
            var known = All.FirstOrDefault(i => i.UserName == impersonateUser);
            var groups = impersonateGroups.Count > 0 ? impersonateGroups.ToList() : known?.Groups.ToList() ?? [];
            if (!groups.Contains("system:authenticated"))
            {
                // The API server adds it to every impersonated user but system:anonymous.
                groups.Add("system:authenticated");
            }

            return new SandboxIdentity(known?.Context ?? "impersonated", impersonateUser, impersonateUid is { Length: > 0 } ? impersonateUid : null, groups, "");
        }

        const string Bearer = "Bearer ";
        if (authorization is not null && authorization.StartsWith(Bearer, StringComparison.OrdinalIgnoreCase))
        {
            var token = authorization[Bearer.Length..].Trim();
            return All.FirstOrDefault(i => i.Token == token) ?? Admin;
        }

        return Admin;
    }

    private static string NewToken() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));
}
