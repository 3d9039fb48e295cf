using Skein.Ledger;
using Skein.Ledger.Market;
using Skein.Market.Deploy;

namespace Skein.Console.Data;

/// <summary>Where a deploy job is: preparing the node's key and stake, waiting for bids, leased, running, joined; or stopped without a bid or on an error.</summary>
public enum DeployJobState
{
    Preparing,
    WaitingForBids,
    Leased,
    Running,
    Joined,
    NoBid,
    Failed,
}

/// <summary>One step of a deploy job, as its page lists it: when, what kind (key, fund, bid, flow, running, joined, no-bid, error, ...), and the words.</summary>
public sealed record DeployStep(DateTimeOffset At, string Kind, string Text);

/// <summary>
/// A deploy the console runs in the background for a person who submitted the form: its request, its deployment's id
/// (chosen up front, so the page can follow the ledger from the start), the node's address, and what happened so far.
/// Read from any request while the job writes: every read is a snapshot.
/// </summary>
public sealed class DeployJob
{
    private readonly Lock _gate = new();
    private readonly List<DeployStep> _steps = [];
    private DeployJobState _state = DeployJobState.Preparing;

    internal DeployJob(string id, DeployRequest request, DeploymentId deployment, DateTimeOffset started)
    {
        Id = id;
        Request = request;
        Deployment = deployment;
        Started = started;
    }

    public string Id { get; }

    public DeployRequest Request { get; }

    public DeploymentId Deployment { get; }

    public DateTimeOffset Started { get; }

    /// <summary>The node's address, once its key is made.</summary>
    public Address? Node { get; internal set; }

    public DeployOutcome? Outcome { get; internal set; }

    /// <summary>What stopped the job, word for word (the ledger's or the provider's refusal, the flow's error).</summary>
    public string? Error { get; internal set; }

    public DeployJobState State
    {
        get
        {
            lock (_gate)
            {
                return _state;
            }
        }
    }

    /// <summary>True once nothing more will happen but top-ups: joined, running a node that joins nothing, no bid, or failed.</summary>
    public bool Settled => State switch
    {
        DeployJobState.Joined or DeployJobState.NoBid or DeployJobState.Failed => true,
        DeployJobState.Running => !Request.Template.JoinsTask || Request.Tasks.Count == 0,
        _ => false,
    };

    public IReadOnlyList<DeployStep> Steps
    {
        get
        {
            lock (_gate)
            {
                return _steps.ToArray();
            }
        }
    }

    internal void Add(DeployStep step)
    {
        lock (_gate)
        {
            _steps.Add(step);
        }
    }

    /// <summary>Moves the job on; a job never goes back (a late ledger read cannot undo "running"), and a stopped one stays stopped.</summary>
    internal bool Advance(DeployJobState state)
    {
        lock (_gate)
        {
            if (_state is DeployJobState.NoBid or DeployJobState.Failed || (state is not (DeployJobState.NoBid or DeployJobState.Failed) && state <= _state))
            {
                return false;
            }
            _state = state;
            return true;
        }
    }
}
