"""The Streamlit chat page (``ui/app.py``) and its small helpers.

Run it with ``companion ui`` (or ``streamlit run ui/app.py`` from the repository).
"""
