FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY exam_server exam_server
COPY grading grading
COPY item_bank item_bank
COPY models models
COPY omr omr
COPY proctoring proctoring
# fonts-wqy-zenhei: the CJK font embedded in printed PDFs (printing refuses to run without one).
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends fonts-wqy-zenhei && rm -rf /var/lib/apt/lists/*
RUN pip install --no-cache-dir . && useradd --system --home /app exam && mkdir -p /data && chown exam /data
USER exam
ENV EXAM_DATA_DIR=/data
EXPOSE 8000
CMD ["exam", "serve", "--host", "0.0.0.0", "--port", "8000"]
