// Draws the GPU benchmark chart of docs/benchmarks.md: our forward and backward TFLOP/s beside PyTorch's
// FlashAttention-2 and cuDNN SDPA backends, measured in the same device run.
//   dotnet run --project tools/FlashAttention.Charts -- OURS.json PEERS.json OUT.png [TITLE]
// OURS.json: `flashattn bench --device cuda --json` (rows: headDim, causal, seqlen, forwardTflops, backwardTflops).
// PEERS.json: `peers_gpu.py --json` (rows: d, causal, n, flash_fwd_tflops, flash_bwd_tflops, cudnn_fwd_tflops, cudnn_bwd_tflops).
using System.Text.Json.Nodes;
using ScottPlot;

if (args.Length is < 3 or > 4)
{
    Console.Error.WriteLine("usage: FlashAttention.Charts OURS.json PEERS.json OUT.png [TITLE]");
    return 2;
}
JsonArray ours, peers;
try
{
    ours = (JsonNode.Parse(File.ReadAllText(args[0]))?["rows"] as JsonArray) ?? throw new FormatException("no \"rows\" array");
}
catch (Exception e) when (e is IOException or FormatException or System.Text.Json.JsonException or UnauthorizedAccessException)
{
    Console.Error.WriteLine($"{args[0]}: {e.Message}");
    return 2;
}
try
{
    peers = (JsonNode.Parse(File.ReadAllText(args[1])) as JsonArray) ?? throw new FormatException("not a JSON array");
}
catch (Exception e) when (e is IOException or FormatException or System.Text.Json.JsonException or UnauthorizedAccessException)
{
    Console.Error.WriteLine($"{args[1]}: {e.Message}");
    return 2;
}

var peerRows = peers.OfType<JsonObject>().Where(r => r["peer"] is not null).ToList();
var multiplot = new Multiplot();
multiplot.AddPlots(4);
multiplot.Layout = new ScottPlot.MultiplotLayouts.Grid(rows: 2, columns: 2);
int panel = 0;
foreach (bool backward in new[] { false, true })
    foreach (int d in new[] { 64, 128 })
    {
        var plot = multiplot.GetPlot(panel++);
        plot.Title($"{(backward ? "backward" : "forward")}, head dim {d}");
        plot.XLabel("sequence length (batch × length = 16k tokens)");
        plot.YLabel("TFLOP/s");
        foreach (bool causal in new[] { false, true })
        {
            var mine = ours.OfType<JsonObject>().Where(r => (int)r["headDim"]! == d && (bool)r["causal"]! == causal)
                .OrderBy(r => (int)r["seqlen"]!).ToList();
            var theirs = peerRows.Where(r => (int)r["d"]! == d && (bool)r["causal"]! == causal).OrderBy(r => (int)r["n"]!).ToList();
            string suffix = causal ? " causal" : "";
            var pattern = causal ? LinePattern.Dashed : LinePattern.Solid;
            Add(plot, mine.Select(r => (int)r["seqlen"]!), mine.Select(r => (double)r[backward ? "backwardTflops" : "forwardTflops"]!),
                "ours" + suffix, Colors.C0, pattern);
            Add(plot, theirs.Select(r => (int)r["n"]!), theirs.Select(r => (double)r[backward ? "flash_bwd_tflops" : "flash_fwd_tflops"]!),
                "FA2 (SDPA)" + suffix, Colors.C1, pattern);
            Add(plot, theirs.Select(r => (int)r["n"]!), theirs.Select(r => (double)r[backward ? "cudnn_bwd_tflops" : "cudnn_fwd_tflops"]!),
                "cuDNN (SDPA)" + suffix, Colors.C2, pattern);
        }
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        foreach (int n in new[] { 512, 1024, 2048, 4096, 8192, 16384 })
            ticks.AddMajor(Math.Log2(n), n >= 1024 ? $"{n / 1024}k" : n.ToString());
        plot.Axes.Bottom.TickGenerator = ticks;
        plot.Axes.SetLimitsY(0, 800);
        plot.ShowLegend(Alignment.UpperLeft);
    }
if (args.Length == 4)
    multiplot.GetPlot(0).Title(args[3] + " — forward, head dim 64");
multiplot.SavePng(args[2], 1600, 1100);
Console.WriteLine($"wrote {args[2]}");
return 0;

// Sequence length on a log2 axis: FlashAttention's grid doubles it from point to point.
static void Add(Plot plot, IEnumerable<int> lengths, IEnumerable<double> tflops, string label, Color color, LinePattern pattern)
{
    double[] xs = [.. lengths.Select(n => Math.Log2(n))];
    double[] ys = [.. tflops];
    if (xs.Length == 0)
        return;
    var line = plot.Add.Scatter(xs, ys, color);
    line.LegendText = label;
    line.LinePattern = pattern;
    line.LineWidth = 2;
    line.MarkerSize = 6;
}
