using FlashAttention.Cli;

namespace FlashAttention.Cuda.Probe;

/// <summary>
/// The <c>flashattn forward --device cuda</c> path on the device, in-process through the tool's own entry point (the
/// same code the flashattn binary runs): .npy inputs written here, the GPU's output compared with the tool's
/// <c>--device cpu</c> output on the same files, and the refusals checked for their exit code and one-line message.
/// </summary>
internal static class CliCheck
{
    public static bool Run(string directory)
    {
        Directory.CreateDirectory(directory);
        string P(string name) => Path.Combine(directory, name);
        bool passed = true;
        Console.WriteLine("cli: flashattn forward --device cuda vs --device cpu on the same .npy files (relative L2 error)");

        void Inputs(int b, int nq, int nk, int h, int hkv, int d, int seed)
        {
            Npy.Write<float>(P("q.npy"), DeviceData.Normal((long)b * nq * h * d, seed), [b, nq, h, d]);
            Npy.Write<float>(P("k.npy"), DeviceData.Normal((long)b * nk * hkv * d, seed + 1), [b, nk, hkv, d]);
            Npy.Write<float>(P("v.npy"), DeviceData.Normal((long)b * nk * hkv * d, seed + 2), [b, nk, hkv, d]);
        }

        (int Code, string Out, string Err) Tool(params string[] args)
        {
            var stdout = new StringWriter();
            var stderr = new StringWriter();
            int code = FlashAttention.Cli.Program.Run(args, stdout, stderr);
            return (code, stdout.ToString(), stderr.ToString());
        }

        void Compare(string name, string[] extra, double tolerance)
        {
            string[] common = ["forward", "--q", P("q.npy"), "--k", P("k.npy"), "--v", P("v.npy")];
            var gpu = Tool([.. common, "--out", P("o_gpu.npy"), "--lse", P("lse_gpu.npy"), "--device", "cuda", .. extra]);
            var cpu = Tool([.. common, "--out", P("o_cpu.npy"), "--lse", P("lse_cpu.npy"), "--device", "cpu", .. extra]);
            if (gpu.Code != 0 || cpu.Code != 0)
            {
                passed = false;
                Console.WriteLine($"  {name,-44} FAIL: exit gpu {gpu.Code} cpu {cpu.Code}: {gpu.Err.Trim()} {cpu.Err.Trim()}");
                return;
            }
            double err = RelativeError(Floats(P("o_gpu.npy")), Floats(P("o_cpu.npy")));
            double lseErr = MaxAbs(Floats(P("lse_gpu.npy")), Floats(P("lse_cpu.npy")));
            bool ok = err <= tolerance && lseErr <= 2e-3;
            passed &= ok;
            Console.WriteLine($"  {name,-44} out err {err,9:E2}  lse err {lseErr,9:E2}  {(ok ? "PASS" : "FAIL")}   [{gpu.Out.Trim()}]");
        }

        void Refused(string name, string[] args, string culprit)
        {
            var r = Tool(args);
            bool ok = r.Code == 2 && r.Err.Trim().Split('\n').Length == 1 && r.Err.Contains(culprit);
            passed &= ok;
            Console.WriteLine($"  {name,-44} exit {r.Code}: {r.Err.Trim()}  {(ok ? "PASS" : "FAIL")}");
        }

        Inputs(2, 300, 333, 4, 2, 64, 5);
        Compare("fp16 D64 causal GQA", ["--dtype", "fp16", "--causal"], 2e-3);
        Npy.Write<float>(P("alibi.npy"), [0.5f, 0.25f, 0.125f, 0.0625f], [4]);
        Compare("bf16 D64 alibi dropout 0.2", ["--dtype", "bf16", "--alibi", P("alibi.npy"), "--dropout", "0.2", "--seed", "42", "--offset", "7"], 1.6e-2);
        Inputs(2, 257, 190, 2, 2, 128, 9);
        Npy.Write<float>(P("alibi2.npy"), [0.3f, 0.1f, 0.05f, 0.02f], [2, 2]);
        Compare("fp16 D128 softcap alibi[B,H] dropout 0.1 causal", ["--dtype", "fp16", "--causal", "--softcap", "20", "--alibi", P("alibi2.npy"),
            "--dropout", "0.1", "--seed", "3"], 2e-3);
        string[] dense = ["forward", "--q", P("q.npy"), "--k", P("k.npy"), "--v", P("v.npy"), "--out", P("o_no.npy"), "--device", "cuda"];
        Refused("fp32 (no --dtype)", dense, "--dtype");
        Refused("--softmax", [.. dense, "--dtype", "fp16", "--softmax", P("p_no.npy")], "--softmax");
        Refused("--variant cosine", [.. dense, "--dtype", "fp16", "--variant", "cosine"], "--variant");
        Inputs(1, 10, 10, 2, 2, 96, 1);
        Refused("head dim 96", [.. dense, "--dtype", "fp16"], "head dim 96");
        Console.WriteLine(passed ? "cli: all passed" : "cli: FAILURES above");
        return passed;
    }

    private static float[] Floats(string path)
    {
        var a = Npy.Read(path);
        return a.Dtype == NpyDtype.Float16
            ? System.Runtime.InteropServices.MemoryMarshal.Cast<byte, Half>(a.Data).ToArray().Select(x => (float)x).ToArray()
            : System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(a.Data).ToArray();
    }

    private static double RelativeError(float[] a, float[] e)
    {
        double num = 0, den = 0;
        for (int i = 0; i < e.Length; i++)
        {
            num += (a[i] - (double)e[i]) * (a[i] - (double)e[i]);
            den += (double)e[i] * e[i];
        }
        return Math.Sqrt(num / Math.Max(den, 1e-300));
    }

    private static double MaxAbs(float[] a, float[] e)
    {
        double max = 0;
        for (int i = 0; i < e.Length; i++)
            if (!(float.IsPositiveInfinity(a[i]) && float.IsPositiveInfinity(e[i])))
                max = Math.Max(max, Math.Abs(a[i] - (double)e[i]));
        return max;
    }
}
