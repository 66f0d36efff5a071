using System.Net;
using System.Net.Sockets;
using System.Text;
using BranchEni.Netlink;

namespace BranchEni.Cni.Tests.Corpus;

/// <summary>
/// A minimal Kubernetes API answering GET /api/v1/namespaces/NS/pods/NAME (and any other path put in
/// <see cref="Objects"/>) from dictionaries, listening on loopback inside a test namespace (the plugin runs there, and
/// loopback is per namespace). Every other path is 404, as an API server without the SGP CRD answers its list.
/// </summary>
public sealed class FakePodApi : IDisposable
{
    private readonly TcpListener listener;
    private readonly CancellationTokenSource stop = new();

    /// <param name="namespacePath">The namespace to listen in; null: the caller's (loopback only, never beyond).</param>
    public FakePodApi(string? namespacePath)
    {
        static TcpListener Listen()
        {
            var l = new TcpListener(IPAddress.Loopback, 0);
            l.Start();
            return l;
        }

        // The listening socket belongs to the namespace it is created in; accept works from any thread afterwards.
        if (namespacePath is null)
        {
            listener = Listen();
        }
        else
        {
            using var ns = NetworkNamespace.Open(namespacePath);
            listener = ns.Run(Listen);
        }
        Port = ((IPEndPoint)listener.LocalEndpoint).Port;
        _ = Task.Run(ServeAsync);
    }

    public int Port { get; }

    /// <summary>"ns/name" to the pod's JSON.</summary>
    public System.Collections.Concurrent.ConcurrentDictionary<string, string> Pods { get; } = new(StringComparer.Ordinal);

    /// <summary>Request path to JSON, for anything that is not a pod (SecurityGroupPolicy lists, service accounts).</summary>
    public System.Collections.Concurrent.ConcurrentDictionary<string, string> Objects { get; } = new(StringComparer.Ordinal);

    /// <summary>How many pod GETs were answered (the wait-with-backoff test counts polls).</summary>
    public int Requests => requests;

    private int requests;

    private bool disposed;

    public string WriteKubeconfig(string directory)
    {
        var path = Path.Combine(directory, "kubeconfig");
        File.WriteAllText(path, $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: test
              cluster:
                server: http://127.0.0.1:{Port}
            contexts:
            - name: test
              context:
                cluster: test
                user: test
            current-context: test
            users:
            - name: test
              user:
                token: test-token
            """);
        return path;
    }

    private async Task ServeAsync()
    {
        while (!stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            _ = Task.Run(() => Answer(client));
        }
    }

    private void Answer(TcpClient client)
    {
        using (client)
        {
            using var stream = client.GetStream();
            using var reader = new StreamReader(stream, Encoding.ASCII, leaveOpen: true);
            var requestLine = reader.ReadLine() ?? "";
            while (reader.ReadLine() is { Length: > 0 })
            {
            }

            var path = requestLine.Split(' ') is [_, var p, ..] ? p : "";
            var parts = path.Split('/');
            string? body = null;
            if (parts is ["", "api", "v1", "namespaces", var ns, "pods", var name])
            {
                Interlocked.Increment(ref requests);
                Pods.TryGetValue($"{ns}/{name}", out body);
            }
            else
            {
                Objects.TryGetValue(path, out body);
            }

            var status = body is null ? "404 Not Found" : "200 OK";
            body ??= """{"kind":"Status","code":404}""";
            var bytes = Encoding.UTF8.GetBytes(body);
            var head = Encoding.ASCII.GetBytes(
                $"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {bytes.Length}\r\nConnection: close\r\n\r\n");
            stream.Write(head);
            stream.Write(bytes);
        }
    }

    public void Dispose()
    {
        if (disposed)
        {
            return;
        }

        disposed = true;
        stop.Cancel();
        listener.Stop();
        stop.Dispose();
    }
}
