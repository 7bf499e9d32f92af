using System.CommandLine;
using System.Diagnostics;

namespace FlashAttention.Cli.Commands;

/// <summary>
/// <c>flashattn backward</c>: the attention backward pass on .npy files. Takes the forward's inputs, options, output and
/// log-sum-exp plus dO, and writes dq, dk and dv (shapes of q, k and v).
/// </summary>
internal static class BackwardCommand
{
    /// <summary>Builds the subcommand.</summary>
    public static Command Create()
    {
        var flags = new AttentionFlags();
        var output = new Option<string>("--out") { Description = "The forward output .npy, shape of q (input).", Required = true, HelpName = "O.npy" };
        var lse = new Option<string>("--lse") { Description = "The forward log-sum-exp .npy, <f4 [B, H, Nq] (packed: [H, total_q]) (input).", Required = true, HelpName = "LSE.npy" };
        var dOutput = new Option<string>("--dout") { Description = "Gradient of the loss w.r.t. the output .npy, shape of q (input).", Required = true, HelpName = "DO.npy" };
        var dq = new Option<string>("--dq") { Description = "Writes dq, shape of q.", Required = true, HelpName = "DQ.npy" };
        var dk = new Option<string>("--dk") { Description = "Writes dk, shape of k.", Required = true, HelpName = "DK.npy" };
        var dv = new Option<string>("--dv") { Description = "Writes dv, shape of v.", Required = true, HelpName = "DV.npy" };
        var command = new Command("backward", "Attention backward pass on .npy files: dq, dk, dv from q, k, v, the forward's out and LSE, and dO. Pass the forward's options.");
        flags.AddTo(command);
        foreach (var option in new[] { output, lse, dOutput, dq, dk, dv })
            command.Add(option);
        command.SetAction(parse => CommandRunner.Run(parse, stdout =>
        {
            var settings = flags.Read(parse);
            var backend = Backends.Select(settings.Device);
            var targets = new Targets(parse.GetValue(dq)!, parse.GetValue(dk)!, parse.GetValue(dv)!);
            OutputFiles.CheckTargets(("--dq", targets.DQ), ("--dk", targets.DK), ("--dv", targets.DV));
            var inputs = AttentionInputs.Load(settings);
            var forward = new ForwardResult(
                inputs.LoadLikeQ(parse.GetValue(output)!, "--out"),
                inputs.LoadLse(parse.GetValue(lse)!, "--lse"),
                inputs.LoadLikeQ(parse.GetValue(dOutput)!, "--dout"));
            return inputs.Dtype switch
            {
                ComputeDtype.Fp16 => Run<Half>(inputs, forward, backend, targets, stdout),
                ComputeDtype.Bf16 => Run<BFloat16>(inputs, forward, backend, targets, stdout),
                _ => Run<float>(inputs, forward, backend, targets, stdout),
            };
        }));
        return command;
    }

    private sealed record Targets(string DQ, string DK, string DV);

    private sealed record ForwardResult(NpyArray Output, NpyArray Lse, NpyArray DOutput);

    private static int Run<T>(AttentionInputs inputs, ForwardResult forward, IAttentionBackend backend, Targets targets, TextWriter stdout)
        where T : unmanaged
    {
        var g = inputs.Geometry;
        T[] q = inputs.Q.ToElements<T>(), k = inputs.K.ToElements<T>(), v = inputs.V.ToElements<T>();
        T[] output = forward.Output.ToElements<T>(), dOutput = forward.DOutput.ToElements<T>();
        float[] lse = forward.Lse.ToSingle();
        T[] dq = new T[q.Length], dk = new T[k.Length], dv = new T[v.Length];

        var clock = Stopwatch.StartNew();
        LibraryErrors.Guard(() => backend.Backward(g, inputs.Options, q, k, v, output, lse, dOutput, dq, dk, dv));
        clock.Stop();

        using var files = new OutputFiles();
        files.StageTensor(targets.DQ, dq, g.QShape);
        files.StageTensor(targets.DK, dk, g.KvShape);
        files.StageTensor(targets.DV, dv, g.KvShape);
        files.Commit();

        stdout.WriteLine($"backward: {g}, {CommandRunner.Name(inputs.Dtype)} on {backend.Name}: {clock.Elapsed.TotalMilliseconds:F2} ms; wrote {targets.DQ}, {targets.DK}, {targets.DV}");
        return ExitCodes.Ok;
    }
}
