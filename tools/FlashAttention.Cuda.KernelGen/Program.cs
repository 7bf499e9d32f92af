using FlashAttention.Cuda.KernelGen;

// Regenerates src/FlashAttention.Cuda/Kernels/ForwardKernels.g.cs. Run from anywhere inside the repository:
//   dotnet run --project tools/FlashAttention.Cuda.KernelGen
var root = new DirectoryInfo(Environment.CurrentDirectory);
while (root is not null && !File.Exists(Path.Combine(root.FullName, "FlashAttention.slnx")))
    root = root.Parent;
if (root is null)
{
    Console.Error.WriteLine("Run inside the repository (FlashAttention.slnx not found above the current directory).");
    return 1;
}
string target = Path.Combine(root.FullName, GeneratedFiles.ForwardKernels);
File.WriteAllText(target, ForwardKernelGenerator.Generate());
Console.WriteLine($"wrote {target} ({ForwardKernelGenerator.Configs.Count} kernels)");
return 0;
