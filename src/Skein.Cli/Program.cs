using Skein.Cli;

return await SkeinCommand.RunAsync(args, Console.Out, Console.Error);
