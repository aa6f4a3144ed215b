"""The dashboard's pages, one file each (a large page's parts in modules beside it, named after it:
``routing_*.py``), run by Streamlit from app/dashboard.py (st.Page)."""
