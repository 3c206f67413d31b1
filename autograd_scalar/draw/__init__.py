"""Drawing computation graphs: DOT text, its layout, and the files and pictures made of it.

- :mod:`.reading`: how a graph reads (node order, names, modules), shared by every view.
- :mod:`.graph`: ``draw_graph``, a Graphviz drawing of every node's data, grad and rule;
  :mod:`.boxes`, :mod:`.copies`, :mod:`.summary` and :mod:`.orientation` shape large
  drawings.
- :mod:`.dot_text`: user text in DOT as plain text, never markup.
- :mod:`.layout`: DOT to SVG/PNG with Graphviz's ``dot``, else :mod:`.wasm_graphviz`.
- :mod:`.render`: drawings to files; :mod:`.animate`: the backward pass step by step.

The public names are re-exported by :mod:`autograd_scalar`.
"""
