using System.Diagnostics;
using System.Reflection;
using Xunit;
using Xunit.Abstractions;

namespace FlashAttention.Cuda.Probe;

/// <summary>
/// Runs the CUDA test project's xunit facts and theories in-process on the GPU machine, which has no .NET SDK (so no
/// <c>dotnet test</c>): the <c>[CudaFact]</c> tests, and with <c>FLASHATTN_TEST_BACKEND=cuda</c> (set here) the kernel
/// tests that run on the host emulation in CI, now on the device. A test passes when it returns; one whose attribute
/// sets <c>Skip</c> is reported as skipped. Theory data: <c>[InlineData]</c> and <c>[MemberData]</c> on the test class.
/// </summary>
internal static class TestRunner
{
    /// <param name="filters">Substrings of "Class.Method"; a test runs when its name contains any (none: every test).</param>
    /// <returns>0 when every test that ran passed, 1 otherwise.</returns>
    public static int Run(string[] filters)
    {
        Environment.SetEnvironmentVariable("FLASHATTN_TEST_BACKEND", "cuda");
        var assembly = typeof(FlashAttention.Cuda.Tests.CudaFactAttribute).Assembly;
        int passed = 0, failed = 0, skipped = 0;
        var clock = Stopwatch.StartNew();
        foreach (var type in assembly.GetTypes().Where(t => t.IsClass && t.IsPublic && !t.IsAbstract).OrderBy(t => t.Name))
            foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static).OrderBy(m => m.MetadataToken))
            {
                var fact = method.GetCustomAttribute<FactAttribute>();
                if (fact is null)
                    continue;
                string name = $"{type.Name}.{method.Name}";
                if (filters.Length > 0 && !filters.Any(f => name.Contains(f, StringComparison.Ordinal)))
                    continue;
                if (fact.Skip is { } reason)
                {
                    skipped++;
                    Console.WriteLine($"SKIP {name}: {reason}");
                    continue;
                }
                foreach (var arguments in Arguments(type, method, fact))
                {
                    string label = arguments.Length == 0 ? name : $"{name}({string.Join(", ", arguments.Select(a => a?.ToString()))})";
                    var one = Stopwatch.StartNew();
                    try
                    {
                        object? instance = method.IsStatic ? null : Create(type);
                        try
                        {
                            method.Invoke(instance, arguments);
                        }
                        finally
                        {
                            (instance as IDisposable)?.Dispose();
                        }
                        passed++;
                        Console.WriteLine($"PASS {label} [{one.Elapsed.TotalSeconds:F1} s]");
                    }
                    catch (Exception e)
                    {
                        failed++;
                        var inner = e is TargetInvocationException { InnerException: { } cause } ? cause : e;
                        Console.WriteLine($"FAIL {label} [{one.Elapsed.TotalSeconds:F1} s]: {inner.GetType().Name}: {inner.Message}");
                    }
                }
            }
        Console.WriteLine($"tests: {passed} passed, {failed} failed, {skipped} skipped in {clock.Elapsed.TotalSeconds:F0} s (backend: CUDA device)");
        return failed == 0 ? 0 : 1;
    }

    private static IEnumerable<object?[]> Arguments(Type type, MethodInfo method, FactAttribute fact)
    {
        if (fact is not TheoryAttribute)
        {
            yield return [];
            yield break;
        }
        foreach (var inline in method.GetCustomAttributes<InlineDataAttribute>())
            foreach (var row in inline.GetData(method))
                yield return row;
        foreach (var member in method.GetCustomAttributes<MemberDataAttribute>())
        {
            var source = (member.MemberType ?? type).GetMember(member.MemberName, BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static).Single();
            object? data = source switch
            {
                PropertyInfo property => property.GetValue(null),
                MethodInfo factory => factory.Invoke(null, member.Parameters),
                FieldInfo field => field.GetValue(null),
                _ => null,
            };
            foreach (object[] row in (System.Collections.IEnumerable)data!)
                yield return row;
        }
    }

    private static object Create(Type type)
    {
        var constructor = type.GetConstructors().OrderBy(c => c.GetParameters().Length).First();
        var parameters = constructor.GetParameters()
            .Select(p => p.ParameterType == typeof(ITestOutputHelper) ? new ConsoleOutput() : throw new NotSupportedException($"{type.Name} needs a {p.ParameterType.Name}"))
            .ToArray<object>();
        return constructor.Invoke(parameters);
    }

    private sealed class ConsoleOutput : ITestOutputHelper
    {
        public void WriteLine(string message) => Console.WriteLine("     " + message);

        public void WriteLine(string format, params object[] args) => Console.WriteLine("     " + string.Format(format, args));
    }
}
