"""The dashboard's pages, one file each, run by Streamlit from app/dashboard.py (st.Page)."""
