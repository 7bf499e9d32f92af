using System.CommandLine;
using System.Diagnostics;

namespace FlashAttention.Cli.Commands;

/// <summary>
/// <c>flashattn forward</c>: the attention forward pass on .npy files. Writes the output (shape of q), and optionally
/// the log-sum-exp (float32 [B, H, Nq], packed [H, total_q]) and the probabilities (float32 [B, H, Nq, Nk], dropout
/// mask in the sign bit).
/// </summary>
internal static class ForwardCommand
{
    /// <summary>Builds the subcommand.</summary>
    public static Command Create()
    {
        var flags = new AttentionFlags();
        var output = new Option<string>("--out") { Description = "Output .npy, shape of q (<f4; <f2 with fp16).", Required = true, HelpName = "O.npy" };
        var lse = new Option<string?>("--lse") { Description = "Also write the log-sum-exp, <f4 [B, H, Nq] (packed: [H, total_q]).", HelpName = "LSE.npy" };
        var softmax = new Option<string?>("--softmax") { Description = "Also write the probabilities, <f4 [B, H, Nq, Nk] (packed: [B, H, max_q, max_k]); a negative sign marks a dropped entry.", HelpName = "P.npy" };
        var command = new Command("forward", "Attention forward pass on .npy files: out = softmax(scale * q k^T + mods) v.");
        flags.AddTo(command);
        command.Add(output);
        command.Add(lse);
        command.Add(softmax);
        command.SetAction(parse => CommandRunner.Run(parse, stdout =>
        {
            var settings = flags.Read(parse);
            var targets = new Targets(parse.GetValue(output)!, parse.GetValue(lse), parse.GetValue(softmax));
            var backend = Backends.Select(settings.Device);
            try
            {
                OutputFiles.CheckTargets(("--out", targets.Out), ("--lse", targets.Lse), ("--softmax", targets.Softmax));
                var inputs = AttentionInputs.Load(settings);
                return inputs.Dtype switch
                {
                    ComputeDtype.Fp16 => Run<Half>(inputs, backend, targets, stdout),
                    ComputeDtype.Bf16 => Run<BFloat16>(inputs, backend, targets, stdout),
                    _ => Run<float>(inputs, backend, targets, stdout),
                };
            }
            finally
            {
                (backend as IDisposable)?.Dispose();
            }
        }));
        return command;
    }

    private sealed record Targets(string Out, string? Lse, string? Softmax);

    private static int Run<T>(AttentionInputs inputs, IAttentionBackend backend, Targets targets, TextWriter stdout) where T : unmanaged
    {
        var g = inputs.Geometry;
        var softmax = targets.Softmax is null ? null : CommandRunner.AllocateFloat(g.SoftmaxShape, "--softmax");
        T[] q = inputs.Q.ToElements<T>(), k = inputs.K.ToElements<T>(), v = inputs.V.ToElements<T>();
        var output = new T[q.Length];
        var lse = CommandRunner.AllocateFloat(g.LseShape, "--lse");

        var clock = Stopwatch.StartNew();
        LibraryErrors.Guard(() => backend.Forward(g, inputs.Options, q, k, v, output, lse, softmax));
        clock.Stop();

        using var files = new OutputFiles();
        files.StageTensor(targets.Out, output, g.QShape);
        if (targets.Lse is not null)
            files.Stage<float>(targets.Lse, lse, g.LseShape);
        if (targets.Softmax is not null)
            files.Stage<float>(targets.Softmax, softmax, g.SoftmaxShape);
        files.Commit();

        string written = string.Join(", ", new[] { targets.Out, targets.Lse, targets.Softmax }.OfType<string>());
        stdout.WriteLine($"forward: {g}, {CommandRunner.Name(inputs.Dtype)} on {backend.Name}: {clock.Elapsed.TotalMilliseconds:F2} ms; wrote {written}");
        return ExitCodes.Ok;
    }
}
