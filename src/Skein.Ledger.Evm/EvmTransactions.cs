using Nethereum.Contracts;
using Skein.Ledger.Evm.Contracts;
using Skein.Ledger.Transactions;
using EvmTransaction = Nethereum.RPC.Eth.DTOs.Transaction;

namespace Skein.Ledger.Evm;

/// <summary>Reads a relayed EVM transaction's input back into the signed Skein transaction it carried.</summary>
internal static class EvmTransactions
{
    public static SignedTransaction? Decode(EvmTransaction evm, ulong chainId)
    {
        static Address A(string text) => Address.Parse(text);
        if (evm.IsTransactionForFunctionMessage<RelayTransfer>())
        {
            var m = new RelayTransfer().DecodeTransaction(evm);
            return Signed(new Transfer { From = A(m.From), Nonce = m.TxNonce, To = A(m.To), Amount = (UInt128)m.Amount }, m.Signature, chainId);
        }
        if (evm.IsTransactionForFunctionMessage<RelayStake>())
        {
            var m = new RelayStake().DecodeTransaction(evm);
            return Signed(new Stake { From = A(m.From), Nonce = m.TxNonce, Role = (Role)m.Role, Amount = (UInt128)m.Amount }, m.Signature, chainId);
        }
        if (evm.IsTransactionForFunctionMessage<RelayUnstake>())
        {
            var m = new RelayUnstake().DecodeTransaction(evm);
            return Signed(new Unstake { From = A(m.From), Nonce = m.TxNonce, Role = (Role)m.Role, Amount = (UInt128)m.Amount }, m.Signature, chainId);
        }
        if (evm.IsTransactionForFunctionMessage<RelayDelegate>())
        {
            var m = new RelayDelegate().DecodeTransaction(evm);
            return Signed(new DelegateStake { From = A(m.From), Nonce = m.TxNonce, Operator = A(m.Operator), Role = (Role)m.Role, Amount = (UInt128)m.Amount }, m.Signature, chainId);
        }
        if (evm.IsTransactionForFunctionMessage<RelayUndelegate>())
        {
            var m = new RelayUndelegate().DecodeTransaction(evm);
            return Signed(new UndelegateStake { From = A(m.From), Nonce = m.TxNonce, Operator = A(m.Operator), Role = (Role)m.Role, Amount = (UInt128)m.Amount }, m.Signature, chainId);
        }
        if (evm.IsTransactionForFunctionMessage<RelaySetCommission>())
        {
            var m = new RelaySetCommission().DecodeTransaction(evm);
            return Signed(new SetCommission { From = A(m.From), Nonce = m.TxNonce, CommissionBps = m.Bps }, m.Signature, chainId);
        }
        if (evm.IsTransactionForFunctionMessage<RelayCreateTask>())
        {
            var m = new RelayCreateTask().DecodeTransaction(evm);
            return Signed(new CreateTask
            {
                From = A(m.From), Nonce = m.TxNonce, SpecHash = new Hash32(m.SpecHash), RewardPool = (UInt128)m.RewardPool, Rounds = m.Rounds, MinStake = (UInt128)m.MinStake,
                TrainersPerRound = m.TrainersPerRound, ValidatorsPerRound = m.ValidatorsPerRound, RejectBelow = m.RejectBelow,
            }, m.Signature, chainId);
        }
        if (evm.IsTransactionForFunctionMessage<RelayJoinTask>())
        {
            var m = new RelayJoinTask().DecodeTransaction(evm);
            return Signed(new JoinTask { From = A(m.From), Nonce = m.TxNonce, TaskId = m.TaskId, Role = (Role)m.Role }, m.Signature, chainId);
        }
        if (evm.IsTransactionForFunctionMessage<RelayOpenRound>())
        {
            var m = new RelayOpenRound().DecodeTransaction(evm);
            return Signed(new OpenRound { From = A(m.From), Nonce = m.TxNonce, TaskId = m.TaskId, Round = m.Round, ModelHash = new Hash32(m.ModelHash) }, m.Signature, chainId);
        }
        if (evm.IsTransactionForFunctionMessage<RelaySubmitUpdate>())
        {
            var m = new RelaySubmitUpdate().DecodeTransaction(evm);
            return Signed(new SubmitUpdate { From = A(m.From), Nonce = m.TxNonce, TaskId = m.TaskId, Round = m.Round, UpdateHash = new Hash32(m.UpdateHash), Samples = m.Samples },
                m.Signature, chainId);
        }
        if (evm.IsTransactionForFunctionMessage<RelayCloseTraining>())
        {
            var m = new RelayCloseTraining().DecodeTransaction(evm);
            return Signed(new CloseTraining { From = A(m.From), Nonce = m.TxNonce, TaskId = m.TaskId, Round = m.Round }, m.Signature, chainId);
        }
        if (evm.IsTransactionForFunctionMessage<RelayCommitScores>())
        {
            var m = new RelayCommitScores().DecodeTransaction(evm);
            return Signed(new CommitScores { From = A(m.From), Nonce = m.TxNonce, TaskId = m.TaskId, Round = m.Round, Commitment = new Hash32(m.Commitment) }, m.Signature, chainId);
        }
        if (evm.IsTransactionForFunctionMessage<RelayCloseCommits>())
        {
            var m = new RelayCloseCommits().DecodeTransaction(evm);
            return Signed(new CloseCommits { From = A(m.From), Nonce = m.TxNonce, TaskId = m.TaskId, Round = m.Round }, m.Signature, chainId);
        }
        if (evm.IsTransactionForFunctionMessage<RelayRevealScores>())
        {
            var m = new RelayRevealScores().DecodeTransaction(evm);
            return Signed(new RevealScores
            {
                From = A(m.From), Nonce = m.TxNonce, TaskId = m.TaskId, Round = m.Round, Scores = m.Scores.Select(x => (ulong)x).ToArray(), Salt = new Hash32(m.Salt),
            }, m.Signature, chainId);
        }
        if (evm.IsTransactionForFunctionMessage<RelayFinalizeRound>())
        {
            var m = new RelayFinalizeRound().DecodeTransaction(evm);
            return Signed(new FinalizeRound { From = A(m.From), Nonce = m.TxNonce, TaskId = m.TaskId, Round = m.Round, NewModelHash = new Hash32(m.NewModelHash) }, m.Signature, chainId);
        }
        if (evm.IsTransactionForFunctionMessage<RelayCancelTask>())
        {
            var m = new RelayCancelTask().DecodeTransaction(evm);
            return Signed(new CancelTask { From = A(m.From), Nonce = m.TxNonce, TaskId = m.TaskId }, m.Signature, chainId);
        }
        if (evm.IsTransactionForFunctionMessage<RelayHandoverTask>())
        {
            var m = new RelayHandoverTask().DecodeTransaction(evm);
            return Signed(new HandoverTask { From = A(m.From), Nonce = m.TxNonce, TaskId = m.TaskId, Coordinator = A(m.Coordinator) }, m.Signature, chainId);
        }
        if (evm.IsTransactionForFunctionMessage<RelayLeaveTask>())
        {
            var m = new RelayLeaveTask().DecodeTransaction(evm);
            return Signed(new LeaveTask { From = A(m.From), Nonce = m.TxNonce, TaskId = m.TaskId, Role = (Role)m.Role }, m.Signature, chainId);
        }
        if (evm.IsTransactionForFunctionMessage<RelaySubmitProposal>())
        {
            var m = new RelaySubmitProposal().DecodeTransaction(evm);
            var p = m.Proposal;
            return Signed(new SubmitProposal
            {
                From = A(m.From), Nonce = m.TxNonce, Kind = (Skein.Ledger.Governance.ProposalKind)p.Kind, Parameter = p.Parameter, Value = (UInt128)p.Value, TaskId = p.TaskId,
                ModelHash = new Hash32(p.ModelHash), Name = p.Name, License = p.License, Recipient = A(p.Recipient), Amount = (UInt128)p.Amount, Deposit = (UInt128)p.Deposit,
            }, m.Signature, chainId);
        }
        if (evm.IsTransactionForFunctionMessage<RelayVoteProposal>())
        {
            var m = new RelayVoteProposal().DecodeTransaction(evm);
            return Signed(new VoteProposal { From = A(m.From), Nonce = m.TxNonce, ProposalId = m.ProposalId, Option = (Skein.Ledger.Governance.VoteOption)m.Option }, m.Signature, chainId);
        }
        return DecodeMarket(evm, chainId);
    }

    private static SignedTransaction? DecodeMarket(EvmTransaction evm, ulong chainId)
    {
        static Address A(string text) => Address.Parse(text);
        if (evm.IsTransactionForFunctionMessage<RelayRegisterProvider>())
        {
            var m = new RelayRegisterProvider().DecodeTransaction(evm);
            return Signed(new RegisterProvider { From = A(m.From), Nonce = m.TxNonce, HostUri = m.HostUri, Attributes = m.Attributes, Capacity = m.Capacity }, m.Signature, chainId);
        }
        if (evm.IsTransactionForFunctionMessage<RelaySignProviderAttributes>())
        {
            var m = new RelaySignProviderAttributes().DecodeTransaction(evm);
            return Signed(new SignProviderAttributes { From = A(m.From), Nonce = m.TxNonce, Provider = A(m.Provider), Attributes = m.Attributes }, m.Signature, chainId);
        }
        if (evm.IsTransactionForFunctionMessage<RelayCreateDeployment>())
        {
            var m = new RelayCreateDeployment().DecodeTransaction(evm);
            return Signed(new CreateDeployment { From = A(m.From), Nonce = m.TxNonce, Dseq = m.Dseq, ManifestHash = new Hash32(m.ManifestHash), Groups = m.Groups, Deposit = (UInt128)m.Deposit },
                m.Signature, chainId);
        }
        if (evm.IsTransactionForFunctionMessage<RelayDepositDeployment>())
        {
            var m = new RelayDepositDeployment().DecodeTransaction(evm);
            return Signed(new DepositDeployment { From = A(m.From), Nonce = m.TxNonce, Owner = A(m.Owner), Dseq = m.Dseq, Amount = (UInt128)m.Amount }, m.Signature, chainId);
        }
        if (evm.IsTransactionForFunctionMessage<RelayCloseDeployment>())
        {
            var m = new RelayCloseDeployment().DecodeTransaction(evm);
            return Signed(new CloseDeployment { From = A(m.From), Nonce = m.TxNonce, Owner = A(m.Owner), Dseq = m.Dseq }, m.Signature, chainId);
        }
        if (evm.IsTransactionForFunctionMessage<RelayCreateBid>())
        {
            var m = new RelayCreateBid().DecodeTransaction(evm);
            return Signed(new CreateBid { From = A(m.From), Nonce = m.TxNonce, Owner = A(m.Owner), Dseq = m.Dseq, Gseq = m.Gseq, Oseq = m.Oseq, Price = (UInt128)m.Price }, m.Signature, chainId);
        }
        if (evm.IsTransactionForFunctionMessage<RelayCloseBid>())
        {
            var m = new RelayCloseBid().DecodeTransaction(evm);
            return Signed(new CloseBid { From = A(m.From), Nonce = m.TxNonce, Owner = A(m.Owner), Dseq = m.Dseq, Gseq = m.Gseq, Oseq = m.Oseq }, m.Signature, chainId);
        }
        if (evm.IsTransactionForFunctionMessage<RelayCreateLease>())
        {
            var m = new RelayCreateLease().DecodeTransaction(evm);
            return Signed(new CreateLease { From = A(m.From), Nonce = m.TxNonce, Owner = A(m.Owner), Dseq = m.Dseq, Gseq = m.Gseq, Oseq = m.Oseq, Provider = A(m.Provider) }, m.Signature, chainId);
        }
        if (evm.IsTransactionForFunctionMessage<RelayWithdrawLease>())
        {
            var m = new RelayWithdrawLease().DecodeTransaction(evm);
            return Signed(new WithdrawLease { From = A(m.From), Nonce = m.TxNonce, Owner = A(m.Owner), Dseq = m.Dseq, Gseq = m.Gseq, Oseq = m.Oseq }, m.Signature, chainId);
        }
        if (evm.IsTransactionForFunctionMessage<RelayCloseLease>())
        {
            var m = new RelayCloseLease().DecodeTransaction(evm);
            return Signed(new CloseLease { From = A(m.From), Nonce = m.TxNonce, Owner = A(m.Owner), Dseq = m.Dseq, Gseq = m.Gseq, Oseq = m.Oseq, Provider = A(m.Provider) }, m.Signature, chainId);
        }
        return null;
    }

    private static SignedTransaction Signed(Transaction tx, byte[] signature, ulong chainId) => new(tx, signature) { ChainId = chainId };
}
