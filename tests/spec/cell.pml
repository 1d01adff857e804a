/*
 * cell.pml: the physalia cell protocol with reconfiguration, as a Promela
 * model checked by spin.  This file is the protocol's reference document
 * (the role TLA+ plays in the paper, section 4.3): when the engine and this
 * text disagree, one of them is wrong, and the question is settled here.
 * docs/protocol.md maps every action below onto the engine/ code that
 * implements it.  Run it with tests/spec/check.sh (ctest: spec_cell).
 *
 * THE PROTOCOL
 * ------------
 * A cell's log is a sequence of slots; each slot is decided by its own
 * instance of single-decree Paxos (Lamport, "Paxos Made Simple"): a proposer
 * owning ballot b sends prepare(b); acceptors with no higher promise promise
 * b and report the highest-ballot proposal they accepted; with promises from
 * a majority the proposer sends accept(b, v), v being the reported value of
 * the highest ballot, or its own value when none was reported; acceptors
 * with no higher promise accept; a value accepted by a majority at one
 * ballot is chosen.  The engine runs phase 1 once for a range of slots
 * (multi-Paxos); that is the per-slot phase 1 below run for each slot of
 * the range back to back, so the engine's behaviours are among the model's.
 *
 * The set of acceptors of a slot, its JURY, is part of the cell's state
 * and changes only by a transition chosen in the log itself (Lampson;
 * PHYSALIA.md section 4).  THE alpha RULE has two halves:
 *
 *   EFFECT    a jury change chosen at slot i takes effect at slot i + ALPHA:
 *             jury(s) is the initial jury changed by every change chosen
 *             in slots 0 .. s - ALPHA, applied in slot order;
 *   PIPELINE  a node acts on slot s (prepares, proposes, counts votes) only
 *             when it knows the chosen value of every slot 0 .. s - ALPHA.
 *
 * Together they make jury(s) a function of chosen values alone, so every
 * node able to act on slot s computes the same jury, and each slot is plain
 * Paxos with one fixed acceptor set.  Nothing pads the log with no-ops: a
 * pending change waits for natural traffic to fill the window.
 *
 * A change names the epoch (the number of changes applied so far) it
 * expects; applied at another epoch it is refused and changes nothing.  A
 * duplicated or re-proposed change (the network duplicates; whack-a-mole
 * re-proposes what it finds) cannot move the cell twice, and after the ABA
 * sequence "replace 2 by 3", "replace 3 by 2" a stale copy of the first
 * change cannot depose the returning node again.
 *
 * WHAT IS MODELLED, AND WHY THIS IS ENOUGH
 * ----------------------------------------
 * Slots interact only through the jury: the value of slot j < s matters to
 * slot s only when it is a jury change.  So the model takes an arbitrary
 * TARGET SLOT T and an arbitrary HISTORY h[0..T-1] of chosen values before
 * it (up to three changes at any slots, see init), and runs full Paxos on
 * slot T, with every node's knowledge of the history growing at its own
 * pace, independently of the Paxos steps (a node may stay behind for ever:
 * the stale node; learning covers the CHOSEN messages and the log and bulk
 * teaching modes, which only copy chosen facts).  Agreement on every slot
 * then follows by induction on the slot number: if the slots before T
 * have unique chosen values (the history), the model shows T has too.
 *
 * Nodes 0..3; the initial jury is {0,1,2}.  Jury changes are
 *   RC1 "replace 2 by 3 if the epoch is 0"   -> {0,1,3}
 *   RC2 "replace 3 by 2 if the epoch is 1"   -> {0,1,2} again (ABA)
 * Ballots 1, 2, 3 of slot T are owned by nodes 0, 2 and 3: a member that
 * stays, the member RC1 deposes (a stale proposer, or a deposed one), and
 * the member RC1 adds (a proposer that may run ahead of its own joining).
 * Each has its own knowledge of the history; node 1 is an acceptor only.
 *
 * NETWORK.  Messages are kept in the set of every message ever sent (the
 * TLA+ Paxos idiom), not in channels: a message, once sent, may be received
 * any number of times (duplication), in any order relative to others
 * (reordering), or never (loss).  This is the most general unordered,
 * lossy, duplicating network; it subsumes Promela's unordered channels
 * while keeping the state small, since a duplicate that changes nothing is
 * not a new state.  Crashes are covered too: acceptor state is durable
 * (PROMISE and ACCEPT records) and a proposer's volatile state is only its
 * ballot's progress, so a crash is the same as a proposer that stops.
 *
 * PROPERTIES (assertions, checked after every step that could break them)
 *   AGREEMENT    whatever any node can learn for T (a majority of the jury
 *                it computes for T accepted one ballot) equals what any
 *                node learned before, in any configuration.
 *   SPLIT BRAIN  no two different values are each accepted in T by a
 *                majority of ANY jury the cell ever has (the initial or a
 *                changed one), at any ballots: a client with a stale
 *                discovery cache, or a deposed node that never heard of its
 *                deposition, counting votes with an old jury can never see
 *                a value the current jury did not choose.
 *   NO STALE VOTE only members of the true jury(T) ever vote in T: a
 *                deposed member never votes once its deposition took
 *                effect, a new member never before its joining did.
 *   EPOCHS       every jury anyone computes is one the changes allow.
 *
 * DELIBERATE BUGS (tests/spec/check.sh shows spin rejects each)
 *   -DBUG_EFFECT_AT_I   a change takes effect as soon as it is known, at the
 *                       slot after i, while the pipeline still runs ALPHA
 *                       slots ahead: two proposers that know different
 *                       prefixes use different juries for one slot.
 *   -DBUG_DEPOSED_VOTES a node that knows it was deposed keeps acting on the
 *                       last jury it belonged to (prepares and counts votes
 *                       there, and the old members answer it, as acceptors
 *                       do).
 *   -DNO_VOTE_CHECK     leaves out the NO STALE VOTE assertion, to show the
 *                       bugs also break AGREEMENT or SPLIT BRAIN themselves.
 *
 * BOUND.  4 nodes, 3 ballots in the target slot, ALPHA and TMAX (the
 * largest target slot) as defined below (default ALPHA 2, T = 0..3; CI
 * also runs ALPHA 3, T = 0..4).  Within the bound the search is
 * exhaustive: spin stores every state (no bitstate hashing) and reports
 * "errors: 0".  The bound covers a change and its whole window, two
 * changes inside one window (RC1 at i, RC2 at i + 1), the ABA return, a
 * stale replayed change, stale proposers on each side of each change, and
 * three competing proposers.  -DFULL_HISTORY replaces the canonical
 * histories by every sequence of W, RC1, RC2 (a larger run, same result:
 * with -DALPHA=3 -DTMAX=4, 10,285,281 states, errors: 0, 230 s).
 *
 * Knowledge of slots past T - ALPHA does not change what a correct node
 * does for T, so the model stops a node's learning there (at T with
 * BUG_EFFECT_AT_I, where it does matter): states differing only in that
 * are the same state for the protocol.
 */

#ifndef ALPHA
#define ALPHA 2
#endif
#ifndef TMAX
#define TMAX (ALPHA + 1) /* the target slot T ranges over 0..TMAX */
#endif
#define NN 4            /* nodes 0..3 */
#define NB 3            /* ballots 1..3 in the target slot */

/* values of the history slots (their effect on the jury) */
#define NONE 0
#define W    1          /* any value without jury effect: a write, a no-op */
#define RC1  2          /* "replace 2 by 3, if the jury epoch is 0" */
#define RC2  3          /* "replace 3 by 2, if the jury epoch is 1" (ABA) */

#define J0   7          /* {0,1,2}: bit n is node n */
#define J1   11         /* {0,1,3}: after RC1 */

/*
 * Ballot b is owned by node OWNER(b): 1 -> 0, 2 -> 2, 3 -> 3.  Node 2 is the
 * member RC1 deposes (and RC2 brings back); node 3 the member RC1 adds (and
 * RC2 deposes again).  Each owner is a proposer and a learner with its own
 * knowledge of the history; node 1 is an acceptor only.  When free to
 * choose, the owner of b proposes the value 10 + b, so proposals of
 * different ballots always differ and any disagreement shows.
 */
#define OWNER(b) ((b) == 1 -> 0 : ((b) == 2 -> 2 : 3))
#define IN(n, J) ((((J) >> (n)) & 1) == 1)
#define AB(a, b) ((a) * (NB + 1) + (b))

/* ---- the history: slots 0..T-1, fixed at the start; T the target slot */
byte T;
byte h[TMAX];

/* ---- knowledge: the owner of ballot b knows slots 0..k[b]-1 (k[0] unused) */
byte k[NB + 1];

/* ---- the target slot's Paxos state ---- */
byte maxBal[NN];            /* acceptor a: highest ballot promised or accepted */
byte p1a[NB + 1];           /* prepare(b): the jury it was sent to, 0 = not sent */
bit  p1b[NN * (NB + 1)];    /* promise(a, b) sent */
byte p2a[NB + 1];           /* accept(b, v): v, NONE = not sent */
byte p2aJ[NB + 1];          /*   and the jury it was sent to */
bit  p2b[NN * (NB + 1)];    /* accepted(a, b) sent; its value is p2a[b] */
byte decided;               /* ghost: the first value anyone learned in T */

/* scratch (always 0 between steps, so not part of the state in effect) */
byte J, TJ, ep, mine, j, q, hb, v, seen, a2, b2, x;
bit ok;

#define POP(m) ((((m) >> 0) & 1) + (((m) >> 1) & 1) + (((m) >> 2) & 1) + (((m) >> 3) & 1))
/* does the node set Q hold a majority of jury J? */
#define MAJ(Q, JJ) (2 * POP((Q) & (JJ)) > POP(JJ))

/*
 * applyChange: the jury transition, applied in slot order.  A change whose
 * expected epoch is not the current one is refused and changes nothing, so
 * a duplicated or re-proposed change cannot move the cell twice, and after
 * RC1, RC2 a stale RC1 cannot depose the returning node 2 again.
 * Engine: the reconfiguration transition, engine/jury.c.
 */
inline applyChange(val, JJ)
{
	if
	:: val == RC1 && ep == 0 -> JJ = (JJ & ~4) | 8; ep = 1
	:: val == RC2 && ep == 1 -> JJ = (JJ & ~8) | 4; ep = 2
	:: else -> skip
	fi
}

/*
 * juryFor(b): the jury the owner of ballot b uses for the target slot T,
 * into J, from the history it knows; ok = 0 when it may not act on T yet
 * (the PIPELINE BOUND: it must know every slot 0..T-ALPHA).
 * Engine: the jury-of-slot lookup, engine/jury.c.
 */
inline juryFor(b)
{
	J = J0; ep = 0; mine = J0; j = 0;
	ok = (k[b] + ALPHA > T);
	do
	:: j + ALPHA <= T && j < k[b] ->
		applyChange(h[j], J);
		if :: IN(OWNER(b), J) -> mine = J :: else -> skip fi;
		j++
	:: else -> break
	od;
#ifdef BUG_EFFECT_AT_I
	/* BUG: a change takes effect as soon as it is known, at the next slot:
	 * every known slot before T counts, not only those at least ALPHA
	 * before it, while the pipeline still runs ALPHA slots ahead. */
	do
	:: j < T && j < k[b] -> applyChange(h[j], J); j++
	:: else -> break
	od;
#endif
#ifdef BUG_DEPOSED_VOTES
	/* BUG: a node that knows it was deposed keeps acting on the last jury
	 * it was a member of. */
	if :: !IN(OWNER(b), J) -> J = mine :: else -> skip fi;
#endif
	/* EPOCHS: every jury anyone computes is one the change sequence allows */
	assert(!ok || J == J0 || J == J1);
	ep = 0; mine = 0; j = 0
}

/* trueJury: jury(T) from the history itself, into TJ */
inline trueJury()
{
	TJ = J0; ep = 0; j = 0;
	do
	:: j + ALPHA <= T -> applyChange(h[j], TJ); j++
	:: else -> break
	od;
	ep = 0; j = 0
}

/* q = the set of acceptors that sent accepted(bb) */
inline acceptedBy(bb)
{
	q = 0; a2 = 0;
	do
	:: a2 < NN -> if :: p2b[AB(a2, bb)] -> q = q | (1 << a2) :: else -> skip fi; a2++
	:: else -> break
	od;
	a2 = 0
}

/*
 * AGREEMENT: whatever any owner can learn now (a majority of the jury it
 * computes for T accepted one ballot) equals what anyone learned before.
 * Checked after every step that adds a vote or knowledge.
 */
inline checkAgreement()
{
	x = 1;
	do
	:: x <= NB ->
		juryFor(x);
		if
		:: ok ->
			b2 = 1;
			do
			:: b2 <= NB ->
				acceptedBy(b2);
				if
				:: p2a[b2] != NONE && MAJ(q, J) ->
					assert(decided == NONE || decided == p2a[b2]);
					decided = p2a[b2]
				:: else -> skip
				fi;
				b2++
			:: else -> break
			od
		:: else -> skip
		fi;
		x++
	:: else -> break
	od;
	x = 0; b2 = 0; q = 0; J = 0; ok = 0
}

/*
 * SPLIT BRAIN: among all (jury X the cell ever has, ballot b) such that a
 * majority of X accepted b in T, the values are all equal.  The cell's
 * juries are J0 and J1 (RC2 brings back J0).  A client or node counting
 * votes with a stale jury can never see a second value.
 */
inline checkSplitBrain()
{
	seen = NONE; b2 = 1;
	do
	:: b2 <= NB ->
		acceptedBy(b2);
		if
		:: MAJ(q, J0) || MAJ(q, J1) ->
			assert(seen == NONE || seen == p2a[b2]);
			seen = p2a[b2]
		:: else -> skip
		fi;
		b2++
	:: else -> break
	od;
	seen = 0; b2 = 0; q = 0
}

/*
 * LEARN HISTORY.  The owner of b learns the next slot of the history (from
 * CHOSEN messages, or from a teacher: log or bulk teaching).  A node may
 * also stay behind for ever: the stale node.  Engine: applying chosen slots
 * in order (engine/paxos.c) and engine/teach.c.
 */
#ifdef BUG_EFFECT_AT_I
#define KCAP T
#else
#define KCAP (T + 1 > ALPHA -> T + 1 - ALPHA : 0)
#endif
#define LEARN_HISTORY(b) \
	:: d_step { k[b] < KCAP -> k[b]++; checkAgreement() }

/*
 * PREPARE (Paxos 1a).  The owner of ballot b, able to act on T, sends
 * prepare(b) to the jury it computes for T.  Engine: proposer phase 1
 * (engine/paxos.c) with the jury from engine/jury.c.
 */
#define PREPARE(b) \
	:: d_step { p1a[b] == 0 && k[b] + ALPHA > T -> juryFor(b); p1a[b] = J; J = 0; ok = 0 }

/*
 * PROMISE (Paxos 1b).  Acceptor a, addressed by prepare(b), with no promise
 * of b or higher, promises b.  Engine: the acceptor's prepare handler; the
 * PROMISE record is durable before the promise leaves.
 */
#define PROMISE(a, b) \
	:: d_step { IN(a, p1a[b]) && b > maxBal[a] -> maxBal[a] = b; p1b[AB(a, b)] = 1 }

/*
 * PROPOSE (Paxos 2a).  With promises from a majority of the jury it
 * prepared, the owner of b proposes the value of the highest-ballot
 * proposal they report (an acceptor's report is its highest accepted
 * ballot below b: nothing below b can be accepted after the promise), or
 * its own value 10 + b when none reports one: a client batch, a jury
 * change, or a whack-a-mole no-op.  Engine: proposer phase 2,
 * engine/paxos.c; the whack-a-mole no-op, engine/teach.c.
 */
inline propose(b)
{
	J = p1a[b]; q = 0; hb = 0; v = NONE; a2 = 0;
	do
	:: a2 < NN ->
		if
		:: IN(a2, J) && p1b[AB(a2, b)] ->
			q = q | (1 << a2);
			b2 = b - 1;
			do
			:: b2 > hb && p2b[AB(a2, b2)] -> hb = b2; v = p2a[b2]; break
			:: b2 > hb && !p2b[AB(a2, b2)] -> b2--
			:: else -> break
			od
		:: else -> skip
		fi;
		a2++
	:: else -> break
	od;
	if
	:: MAJ(q, J) ->
		if :: v == NONE -> v = 10 + b :: else -> skip fi;
		p2a[b] = v;
		p2aJ[b] = J
	:: else -> skip
	fi;
	J = 0; q = 0; hb = 0; v = 0; a2 = 0; b2 = 0
}
#define PROPOSE(b) \
	:: d_step { p1a[b] != 0 && p2a[b] == NONE -> propose(b) }

/*
 * ACCEPT (Paxos 2b).  Acceptor a, addressed by accept(b, v), with no
 * promise above b, accepts.  Engine: the acceptor's accept handler; the
 * ACCEPT record is durable before "accepted" leaves.  NO STALE VOTE: only
 * members of the true jury(T) ever vote in T.
 */
#ifdef NO_VOTE_CHECK
#define CHECK_VOTE(a)
#else
#define CHECK_VOTE(a) trueJury(); assert(IN(a, TJ)); TJ = 0;
#endif
#define ACCEPT(a, b) \
	:: d_step { p2a[b] != NONE && IN(a, p2aJ[b]) && b >= maxBal[a] && !p2b[AB(a, b)] -> \
		maxBal[a] = b; p2b[AB(a, b)] = 1; \
		CHECK_VOTE(a) \
		checkSplitBrain(); checkAgreement() }

init {
	/*
	 * The history: a target slot T and the values chosen before it.  Up to
	 * three changes, at increasing slots i1 < i2 < i3, everything else W:
	 * RC1 at i1 (2 leaves, 3 joins), RC2 at i2 (3 leaves, 2 returns: ABA),
	 * and RC1 again at i3 (a duplicated or re-proposed stale change, which
	 * the epoch refuses).  Values without jury effect are all alike here,
	 * so this covers every history up to what the jury can observe.
	 */
	atomic {
		if
		:: T = 0
		:: T = 1
		:: T = 2
		:: T = 3
#if TMAX >= 4
		:: T = 4
#endif
#if TMAX >= 5
		:: T = 5
#endif
#if TMAX >= 6
		:: T = 6
#endif
		fi;
#ifdef FULL_HISTORY
		/* every history of W, RC1, RC2: a larger check of the claim above */
		do
		:: j < T -> if :: h[j] = W :: h[j] = RC1 :: h[j] = RC2 fi; j++
		:: else -> break
		od;
#else
		do
		:: j < T -> h[j] = W; j++
		:: else -> break
		od;
		j = 0;
		/* i1: RC1, or no change at all */
		do
		:: j < T -> j++
		:: j < T -> h[j] = RC1; j++; break
		:: break
		od;
		if
		:: j > 0 && h[j - 1] == RC1 ->
			/* i2: RC2, or none */
			do
			:: j < T -> j++
			:: j < T -> h[j] = RC2; j++; break
			:: break
			od;
			if
			:: h[j - 1] == RC2 ->
				/* i3: a stale RC1 again, or none */
				do
				:: j < T -> j++
				:: j < T -> h[j] = RC1; break
				:: break
				od
			:: else -> skip
			fi
		:: else -> skip
		fi;
#endif
		j = 0
	};
end:	do
	LEARN_HISTORY(1) LEARN_HISTORY(2) LEARN_HISTORY(3)
	PREPARE(1) PREPARE(2) PREPARE(3)
	PROMISE(0, 1) PROMISE(0, 2) PROMISE(0, 3)
	PROMISE(1, 1) PROMISE(1, 2) PROMISE(1, 3)
	PROMISE(2, 1) PROMISE(2, 2) PROMISE(2, 3)
	PROMISE(3, 1) PROMISE(3, 2) PROMISE(3, 3)
	PROPOSE(1) PROPOSE(2) PROPOSE(3)
	ACCEPT(0, 1) ACCEPT(0, 2) ACCEPT(0, 3)
	ACCEPT(1, 1) ACCEPT(1, 2) ACCEPT(1, 3)
	ACCEPT(2, 1) ACCEPT(2, 2) ACCEPT(2, 3)
	ACCEPT(3, 1) ACCEPT(3, 2) ACCEPT(3, 3)
	od
}
