"""The primitive table: every differentiable operation with its numpy implementation, JVP and VJP rules (written in
hodiff's own operations, so they differentiate again), cost hint and test domain; and the Taylor rules."""
