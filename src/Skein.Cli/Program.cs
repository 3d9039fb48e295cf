using Skein.Cli;

using var memoryReport = MemoryReport.StartIfAsked();
return await SkeinCommand.RunAsync(args, Console.Out, Console.Error);
