// One WebJobs function per orchestration and activity the app registered, created at start with
// Reflection.Emit the way the Functions host describes a Node app's functions to the extension:
// `[FunctionName(name)]` with `[OrchestrationTrigger] string` (the out-of-proc context JSON in,
// the SDK's OrchestratorState JSON out) or `[ActivityTrigger] string`. Each body only forwards to
// the Node side.
using System.Net;
using System.Reflection;
using System.Reflection.Emit;
using System.Text;
using Microsoft.Azure.WebJobs;
using Microsoft.Azure.WebJobs.Extensions.DurableTask;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace DurableHost;

public sealed class AppFunctions
{
    [JsonProperty("orchestrations")] public string[] Orchestrations { get; set; } = [];
    [JsonProperty("activities")] public string[] Activities { get; set; } = [];
}

internal static class FunctionEmitter
{
    public static Type Emit(AppFunctions functions)
    {
        var assembly = AssemblyBuilder.DefineDynamicAssembly(new AssemblyName("NodeAppFunctions"), AssemblyBuilderAccess.Run);
        var module = assembly.DefineDynamicModule("NodeAppFunctions");
        var type = module.DefineType("NodeAppFunctions.Functions", TypeAttributes.Public | TypeAttributes.Abstract | TypeAttributes.Sealed | TypeAttributes.Class);
        int index = 0;
        foreach (string name in functions.Orchestrations)
        {
            Define(type, $"Orchestrator{index++}", name, typeof(Task<string>), typeof(OrchestrationTriggerAttribute), "context", nameof(NodeBridge.RunOrchestratorAsync));
        }
        foreach (string name in functions.Activities)
        {
            Define(type, $"Activity{index++}", name, typeof(Task<object?>), typeof(ActivityTriggerAttribute), "input", nameof(NodeBridge.RunActivityAsync));
        }
        return type.CreateType();
    }

    private static void Define(TypeBuilder type, string methodName, string functionName, Type returns, Type trigger, string parameter, string forwardTo)
    {
        var method = type.DefineMethod(methodName, MethodAttributes.Public | MethodAttributes.Static, returns, [typeof(string)]);
        method.SetCustomAttribute(new CustomAttributeBuilder(typeof(FunctionNameAttribute).GetConstructor([typeof(string)])!, [functionName]));
        var input = method.DefineParameter(1, ParameterAttributes.None, parameter);
        input.SetCustomAttribute(new CustomAttributeBuilder(trigger.GetConstructor(Type.EmptyTypes)!, []));
        var il = method.GetILGenerator();
        il.Emit(OpCodes.Ldstr, functionName);
        il.Emit(OpCodes.Ldarg_0);
        il.Emit(OpCodes.Call, typeof(NodeBridge).GetMethod(forwardTo)!);
        il.Emit(OpCodes.Ret);
    }
}

/// <summary>
/// Loopback HTTP to the Node side. 200 carries the result; 422 carries the worker's failure text
/// (`Result: Failure\nException: …\nStack: …`), which the extension reads as the Functions host's
/// RpcException; anything else is a transient fault of the bridge itself.
/// </summary>
public static class NodeBridge
{
    private static HttpClient client = new();

    internal static void Initialize(string baseUrl)
    {
        var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 256, PooledConnectionIdleTimeout = TimeSpan.FromSeconds(4) };
        client = new HttpClient(handler) { BaseAddress = new Uri(baseUrl.TrimEnd('/') + "/"), Timeout = Timeout.InfiniteTimeSpan };
    }

    internal static async Task<AppFunctions> GetFunctionsAsync()
    {
        string json = await client.GetStringAsync("functions");
        return JsonConvert.DeserializeObject<AppFunctions>(json) ?? throw new InvalidOperationException("The Node side listed no functions");
    }

    public static Task<string> RunOrchestratorAsync(string name, string context) => PostAsync($"orchestrations/{Uri.EscapeDataString(name)}", context);

    public static async Task<object?> RunActivityAsync(string name, string input)
    {
        string result = await PostAsync($"activities/{Uri.EscapeDataString(name)}", input ?? "");
        // The worker's return value as the host receives it: JSON, or nothing for undefined.
        return result.Length == 0 ? null : JToken.Parse(result);
    }

    private static async Task<string> PostAsync(string path, string body)
    {
        using var content = new StringContent(body, Encoding.UTF8, "text/plain");
        using HttpResponseMessage response = await client.PostAsync(path, content);
        string text = await response.Content.ReadAsStringAsync();
        if (response.StatusCode == HttpStatusCode.OK) return text;
        if (response.StatusCode == HttpStatusCode.UnprocessableEntity) throw new NodeFunctionException(text);
        throw new HttpRequestException($"The Node side answered {(int)response.StatusCode} for {path}: {text}");
    }
}

/// <summary>A function failure reported by the Node side, in the Functions host's text form.</summary>
public sealed class NodeFunctionException(string message) : Exception(message)
{
}
