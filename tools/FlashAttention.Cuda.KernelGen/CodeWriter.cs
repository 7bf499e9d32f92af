using System.Text;

namespace FlashAttention.Cuda.KernelGen;

/// <summary>An indenting line writer for generated C#.</summary>
internal sealed class CodeWriter
{
    private readonly StringBuilder _sb = new();
    private int _indent;

    public void Line(string text = "")
    {
        if (text.Length > 0)
            _sb.Append(' ', 4 * _indent).Append(text);
        _sb.Append('\n');
    }

    public void Open()
    {
        Line("{");
        _indent++;
    }

    public void Close()
    {
        _indent--;
        Line("}");
    }

    public override string ToString() => _sb.ToString();
}

/// <summary>Pieces of kernel code shared by the generators: cooperative tile copies and reduction trees.</summary>
internal static class KernelSnippets
{
    /// <summary>
    /// Unrolled cooperative cp.async copy of a <paramref name="rows"/>-row tile into swizzled shared memory whose rows hold
    /// <paramref name="layoutDim"/> elements, by <paramref name="threads"/> threads each owning one 16-byte chunk per pass
    /// (variables <c>ldRow</c>, <c>ldShared</c> and <c>chunkOk</c> of the kernel: a chunk past the tensors' head dim is
    /// zero-filled). Full tiles take a path without bounds checks; rows at or past <paramref name="validRows"/> are
    /// zero-filled (source size 0). A null <paramref name="threadOffset"/>: <paramref name="global"/> already points at
    /// this thread's first chunk. <paramref name="chained"/>: each pass's address and row bound derive from the previous
    /// pass's, so that nothing per pass is loop-invariant (for copies inside a loop).
    /// </summary>
    public static void Load(CodeWriter w, int threads, int layoutDim, string shared, string global, string? threadOffset, string rowStride, int rows, string validRows,
        bool chained = false)
    {
        int headDim = layoutDim;
        int rowStep = threads / (headDim / 8);
        if (rowStep == 0 || rows % rowStep != 0)
            throw new ArgumentException($"A copy of {rows} rows of head dim {headDim} does not divide evenly among {threads} threads.");
        int iterations = rows / rowStep;
        // The swizzle depends on row mod 8: with passes of 8k rows one offset serves every pass, otherwise each pass
        // computes its own.
        string Shared(int i) => rowStep % 8 == 0
            ? $"ls + {i * rowStep * headDim * 2}u"
            : $"{shared} + (uint)TileMath.SwizzledOffset(ldRow + {i * rowStep}, ldChunk, RowBytes)";
        if (rowStep % 8 == 0)
            w.Line($"uint ls = {shared} + ldShared;");
        w.Line(threadOffset is null ? $"ulong lg = {global};" : $"ulong lg = {global} + (ulong){threadOffset};");
        w.Line($"long lstep = RowStep * {rowStride};");
        w.Line($"int lvalid = {validRows};");
        // Chained: pass i's address is pass i - 1's plus the step, and its row test compares ldRow with lvalid - i·RowStep.
        // Written as lg + i·lstep and ldRow + i·RowStep < lvalid, the products and sums are loop-invariant inside a key
        // loop; ILGPU hoists them, and they stay live through the loop (two registers a pass, one more for each sum).
        string Address(int i) => chained ? (i == 0 ? "lg" : $"lg{i}") : $"lg + (ulong)({i} * lstep)";
        void Chain(int i)
        {
            if (chained && i > 0)
                w.Line($"ulong lg{i} = {(i == 1 ? "lg" : $"lg{i - 1}")} + (ulong)lstep;");
        }
        w.Line($"if (lvalid >= {rows} && chunkOk)");
        w.Open();
        for (int i = 0; i < iterations; i++)
        {
            Chain(i);
            w.Line($"PtxOps.CopyAsync16({Shared(i)}, {Address(i)});");
        }
        w.Close();
        w.Line("else");
        w.Open();
        for (int i = 0; i < iterations; i++)
        {
            Chain(i);
            string inRange = chained ? (i == 0 ? "ldRow < lvalid" : $"ldRow < lvalid - {i * rowStep}") : $"ldRow + {i * rowStep} < lvalid";
            w.Line($"bool ok{i} = chunkOk && {inRange};");
            w.Line($"PtxOps.CopyAsync16Fill({Shared(i)}, ok{i} ? {Address(i)} : lg, ok{i} ? 16u : 0u);");
        }
        w.Close();
    }

    /// <summary>
    /// The window bounds [lo_mt_h, hi_mt_h] of the lane's rows (rowBase + 16·mt + 8·h, shifted to the keys' diagonal),
    /// clamped to the last key; needs <c>rowBase</c>, <c>shift</c> and <c>lastKey</c> in scope.
    /// </summary>
    public static void RowWindowBounds(CodeWriter w, int mTiles)
    {
        for (int mt = 0; mt < mTiles; mt++)
            for (int h = 0; h < 2; h++)
            {
                string r = $"{mt}_{h}";
                w.Line($"int diag_{r} = rowBase + {mt * 16 + h * 8} + shift;");
                w.Line($"int lo_{r} = p.WindowLeft < 0 ? 0 : diag_{r} - p.WindowLeft;");
                w.Line($"int hi_{r} = p.WindowRight < 0 || diag_{r} + p.WindowRight > lastKey ? lastKey : diag_{r} + p.WindowRight;");
            }
    }

    /// <summary>A balanced tree of <paramref name="op"/>(a, b) over the terms (op null: a + b).</summary>
    public static string Tree(IReadOnlyList<string> terms, string? op = null)
    {
        var level = new List<string>(terms);
        while (level.Count > 1)
        {
            var next = new List<string>();
            for (int i = 0; i + 1 < level.Count; i += 2)
                next.Add(op is null ? $"({level[i]} + {level[i + 1]})" : $"{op}({level[i]}, {level[i + 1]})");
            if (level.Count % 2 == 1)
                next.Add(level[^1]);
            level = next;
        }
        return level[0];
    }
}
