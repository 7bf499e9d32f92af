using FlashAttention.Cuda.KernelGen;

// Regenerates the kernel sources of src/FlashAttention.Cuda/Kernels (*.g.cs). Run from anywhere inside the repository:
//   dotnet run --project tools/FlashAttention.Cuda.KernelGen
var root = new DirectoryInfo(Environment.CurrentDirectory);
while (root is not null && !File.Exists(Path.Combine(root.FullName, "FlashAttention.slnx")))
    root = root.Parent;
if (root is null)
{
    Console.Error.WriteLine("Run inside the repository (FlashAttention.slnx not found above the current directory).");
    return 1;
}
foreach (var (path, generate) in GeneratedFiles.All)
{
    string target = Path.Combine(root.FullName, path);
    string text = generate();
    File.WriteAllText(target, text);
    Console.WriteLine($"wrote {target} ({text.Count(c => c == '\n')} lines)");
}
return 0;
