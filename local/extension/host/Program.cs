// The Functions host's part for the durable triggers, on a plain WebJobs host with the real
// Durable extension. The app itself runs in Node (local/extension/backend.ts): this process asks
// it which orchestrations and activities the app registered, creates one function per
// registration (as the Functions host does for a Node app), and forwards every orchestrator
// episode and activity call to it over loopback HTTP. The extension's webhook API is served on a
// loopback port of its own, for the Node front to hand `/runtime/webhooks/durabletask/*` to.
//
// Environment (set by the Node side):
//   DURABLE_BRIDGE_URL   where the Node side runs the app's handlers
//   PUBLIC_ORIGIN        the app's public origin, e.g. http://127.0.0.1:7071 (webhook URLs)
//   AzureWebJobsStorage  Azurite (blob, queue, table)
//   AzureWebJobs__extensions__durableTask__*  host.json's durableTask options
// The process stops on SIGTERM (console lifetime) and when its standard input closes (the Node
// side is gone).
using System.Net;
using System.Text;
using Microsoft.Azure.WebJobs;
using Microsoft.Azure.WebJobs.Extensions.DurableTask;
using Microsoft.Azure.WebJobs.Host.Config;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DurableHost;

public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        string bridgeUrl = Required("DURABLE_BRIDGE_URL");
        string publicOrigin = Required("PUBLIC_ORIGIN").TrimEnd('/');

        // Every orchestrator episode in flight blocks a thread-pool thread while Node runs it.
        ThreadPool.GetMinThreads(out int workers, out int io);
        ThreadPool.SetMinThreads(Math.Max(workers, 64), Math.Max(io, 64));

        NodeBridge.Initialize(bridgeUrl);
        AppFunctions functions = await NodeBridge.GetFunctionsAsync();
        Type emitted = FunctionEmitter.Emit(functions);

        IHost host = new HostBuilder()
            .UseConsoleLifetime()
            .ConfigureHostConfiguration(config => config.AddEnvironmentVariablesOnly())
            .ConfigureAppConfiguration(config => config.AddEnvironmentVariablesOnly())
            .ConfigureLogging((context, logging) =>
            {
                logging.AddConfiguration(context.Configuration.GetSection("Logging"));
                logging.AddSimpleConsole(options => { options.SingleLine = true; options.TimestampFormat = "HH:mm:ss.fff "; });
            })
            .ConfigureWebJobs(webJobs => webJobs.AddDurableTask())
            .ConfigureServices(services =>
            {
                services.AddSingleton<ITypeLocator>(new FixedTypeLocator(emitted, typeof(ClientFunctions)));
                services.AddSingleton<IWebHookProvider>(new PublicWebHooks(publicOrigin));
            })
            .Build();

        await host.StartAsync();
        var jobHost = (JobHost)host.Services.GetRequiredService<IJobHost>();
        await jobHost.CallAsync(nameof(ClientFunctions.ReadClientBinding));

        var extension = host.Services.GetServices<IExtensionConfigProvider>().OfType<DurableTaskExtension>().Single();
        using var webhooks = new WebhookServer((IAsyncConverter<HttpRequestMessage, HttpResponseMessage>)extension, publicOrigin);
        webhooks.Start();

        // One line the Node side waits for: where the webhooks are, and the client binding JSON.
        Console.Out.WriteLine("DURABLE_HOST_READY " + Newtonsoft.Json.JsonConvert.SerializeObject(new
        {
            webhookOrigin = webhooks.Origin,
            clientBinding = ClientFunctions.Binding,
            functions = new { orchestrations = functions.Orchestrations.Length, activities = functions.Activities.Length },
        }));
        Console.Out.Flush();

        var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
        // The Node side holds our standard input: when it goes (even SIGKILL), so do we.
        _ = Task.Run(async () =>
        {
            try
            {
                using var stdin = Console.OpenStandardInput();
                var buffer = new byte[256];
                while (await stdin.ReadAsync(buffer) > 0) { }
            }
            catch (IOException) { }
            Console.Out.WriteLine("standard input closed: the Node side is gone, stopping");
            lifetime.StopApplication();
        });

        await host.WaitForShutdownAsync();
        return 0;
    }

    private static string Required(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : throw new InvalidOperationException($"{name} is not set");

    private static void AddEnvironmentVariablesOnly(this Microsoft.Extensions.Configuration.IConfigurationBuilder config) =>
        Microsoft.Extensions.Configuration.EnvironmentVariablesExtensions.AddEnvironmentVariables(config);
}

/// <summary>What the Functions host gives the extension: the public base of its webhooks.</summary>
internal sealed class PublicWebHooks(string publicOrigin) : IWebHookProvider
{
    public Uri GetUrl(IExtensionConfigProvider extension) => new($"{publicOrigin}/runtime/webhooks/durabletask");
}

internal sealed class FixedTypeLocator(params Type[] types) : ITypeLocator
{
    public IReadOnlyList<Type> GetTypes() => types;
}

/// <summary>A function whose only job is to read the extension's durable client binding, as a Node app's input gets it.</summary>
public static class ClientFunctions
{
    public static string? Binding { get; private set; }

    [NoAutomaticTrigger]
    public static void ReadClientBinding([DurableClient] string client) => Binding = client;
}

/// <summary>Hands loopback HTTP requests for /runtime/webhooks/durabletask/* to the extension's own handler.</summary>
internal sealed class WebhookServer(IAsyncConverter<HttpRequestMessage, HttpResponseMessage> handler, string publicOrigin) : IDisposable
{
    private readonly HttpListener listener = new();

    public string Origin { get; private set; } = "";

    public void Start()
    {
        int port = FreePort();
        Origin = $"http://127.0.0.1:{port}";
        listener.Prefixes.Add($"{Origin}/");
        listener.Start();
        _ = Task.Run(AcceptLoop);
    }

    private async Task AcceptLoop()
    {
        while (listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await listener.GetContextAsync(); }
            catch (Exception) when (!listener.IsListening) { return; }
            catch (HttpListenerException) { continue; }
            _ = Task.Run(() => Serve(context));
        }
    }

    private async Task Serve(HttpListenerContext context)
    {
        try
        {
            var incoming = context.Request;
            // The URL as the caller saw it: the extension builds its links from it.
            var request = new HttpRequestMessage(new HttpMethod(incoming.HttpMethod), publicOrigin + incoming.RawUrl);
            var body = new MemoryStream();
            await incoming.InputStream.CopyToAsync(body);
            request.Content = new ByteArrayContent(body.ToArray());
            foreach (string? name in incoming.Headers.AllKeys)
            {
                if (name is null) continue;
                string[] values = incoming.Headers.GetValues(name) ?? [];
                if (!request.Headers.TryAddWithoutValidation(name, values)) request.Content.Headers.TryAddWithoutValidation(name, values);
            }
            using HttpResponseMessage response = await handler.ConvertAsync(request, CancellationToken.None);
            var outgoing = context.Response;
            outgoing.StatusCode = (int)response.StatusCode;
            byte[] payload = response.Content is null ? [] : await response.Content.ReadAsByteArrayAsync();
            foreach (var header in response.Headers) outgoing.Headers[header.Key] = string.Join(", ", header.Value);
            if (response.Content is not null)
            {
                foreach (var header in response.Content.Headers)
                {
                    if (header.Key.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)) continue;
                    outgoing.Headers[header.Key] = string.Join(", ", header.Value);
                }
            }
            outgoing.ContentLength64 = payload.Length;
            await outgoing.OutputStream.WriteAsync(payload);
            outgoing.Close();
        }
        catch (Exception error)
        {
            try
            {
                context.Response.StatusCode = 500;
                byte[] text = Encoding.UTF8.GetBytes(error.Message);
                context.Response.ContentLength64 = text.Length;
                await context.Response.OutputStream.WriteAsync(text);
                context.Response.Close();
            }
            catch (Exception) { }
        }
    }

    private static int FreePort()
    {
        var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    public void Dispose()
    {
        if (listener.IsListening) listener.Stop();
        listener.Close();
    }
}
